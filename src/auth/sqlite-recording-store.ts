// SQLite implementation of RecordingStore: one row per session recording, the part
// bookkeeping as JSON (a handful of entries per session).
import type { Database } from "bun:sqlite";
import type { RecordingQuery, RecordingRecord, RecordingStore, RecordingUsage } from "./recording/recording-store.ts";
import type { SqliteGate } from "./sqlite-gate.ts";
import { decodeRecording } from "./store-rows.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS recordings (session_id TEXT PRIMARY KEY, server_id TEXT NOT NULL, user TEXT NOT NULL,
  state TEXT NOT NULL, started_at INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS recordings_started ON recordings (started_at);
`;

export class SqliteRecordingStore implements RecordingStore {
  constructor(private readonly db: Database, private readonly gate: SqliteGate) {}

  static migrate(db: Database): void {
    db.exec(SCHEMA);
  }

  getRecording(sessionId: string): Promise<RecordingRecord | undefined> {
    return this.gate(() => {
      const row = this.db.query<{ data: string }, [string]>("SELECT data FROM recordings WHERE session_id = ?").get(sessionId);
      return row ? decodeRecording(row.data) : undefined;
    });
  }

  putRecording(r: RecordingRecord, expectVersion?: number): Promise<boolean> {
    return this.gate(() => {
      const values = [r.sessionId, r.serverId, r.user, r.state, r.startedAt.getTime(), JSON.stringify(r)] as const;
      if (expectVersion === undefined) {
        this.db.query("INSERT OR REPLACE INTO recordings (session_id, server_id, user, state, started_at, data) VALUES (?, ?, ?, ?, ?, ?)").run(...values);
        return true;
      }
      const onlyAt = "WHERE coalesce(json_extract(recordings.data, '$.version'), 0) = ?";
      const res = expectVersion === 0
        ? this.db.query(`INSERT INTO recordings (session_id, server_id, user, state, started_at, data) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (session_id) DO UPDATE SET server_id = excluded.server_id, user = excluded.user, state = excluded.state,
            started_at = excluded.started_at, data = excluded.data ${onlyAt}`).run(...values, expectVersion)
        : this.db.query(`UPDATE recordings SET server_id = ?, user = ?, state = ?, started_at = ?, data = ? WHERE session_id = ? AND
            coalesce(json_extract(recordings.data, '$.version'), 0) = ?`).run(values[1], values[2], values[3], values[4], values[5], values[0], expectVersion);
      return res.changes > 0;
    });
  }

  listRecordings(q: RecordingQuery): Promise<RecordingRecord[]> {
    return this.gate(() => {
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (q.user) { where.push("user = ?"); args.push(q.user); }
      if (q.serverId) { where.push("server_id = ?"); args.push(q.serverId); }
      if (q.state) { where.push("state = ?"); args.push(q.state); }
      const sql = `SELECT data FROM recordings ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY started_at DESC LIMIT ?`;
      return this.db.query<{ data: string }, (string | number)[]>(sql).all(...args, q.limit).map((r) => decodeRecording(r.data));
    });
  }

  deleteRecording(sessionId: string): Promise<boolean> {
    return this.gate(() => {
      return this.db.query("DELETE FROM recordings WHERE session_id = ?").run(sessionId).changes === 1;
    });
  }

  usage(since: Date): Promise<RecordingUsage> {
    return this.gate(() => this.#usage(since));
  }

  #usage(since: Date): RecordingUsage {
    // Sizes come from the bookkeeping rows (the bytes each upload received), never from the bucket.
    const size = "COALESCE(json_extract(data, '$.bytes'), 0)";
    const total = this.db.query<{ b: number; n: number }, []>(`SELECT COALESCE(SUM(${size}), 0) AS b, COUNT(*) AS n FROM recordings`).get()!;
    const days = this.db.query<{ day: string; b: number; n: number }, [number]>(
      `SELECT strftime('%Y-%m-%d', started_at / 1000, 'unixepoch') AS day, SUM(${size}) AS b, COUNT(*) AS n FROM recordings WHERE started_at >= ? GROUP BY day ORDER BY day`).all(since.getTime());
    const nodes = this.db.query<{ server_id: string; b: number; n: number }, [number]>(
      `SELECT server_id, SUM(${size}) AS b, COUNT(*) AS n FROM recordings WHERE started_at >= ? GROUP BY server_id ORDER BY b DESC`).all(since.getTime());
    return {
      total: { bytes: total.b, recordings: total.n },
      days: days.map((d) => ({ day: d.day, bytes: d.b, recordings: d.n })),
      nodes: nodes.map((n) => ({ serverId: n.server_id, bytes: n.b, recordings: n.n })),
    };
  }

  openRecordings(serverId?: string): Promise<RecordingRecord[]> {
    return this.gate(() => {
      const rows = serverId
        ? this.db.query<{ data: string }, [string]>("SELECT data FROM recordings WHERE state = 'open' AND server_id = ?").all(serverId)
        : this.db.query<{ data: string }, []>("SELECT data FROM recordings WHERE state = 'open'").all();
      return rows.map((r) => decodeRecording(r.data));
    });
  }
}
