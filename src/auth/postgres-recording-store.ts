// PostgreSQL implementation of RecordingStore: one row per session recording, the part
// bookkeeping as JSON (a handful of entries per session).
import type { SQL } from "bun";
import type { RecordingQuery, RecordingRecord, RecordingStore, RecordingUsage } from "./recording/recording-store.ts";
import { decodeRecording } from "./store-rows.ts";

export class PostgresRecordingStore implements RecordingStore {
  constructor(private readonly q: SQL) {}

  async getRecording(sessionId: string): Promise<RecordingRecord | undefined> {
    const [row] = await this.q`SELECT data FROM recordings WHERE session_id = ${sessionId}`;
    return row ? decodeRecording(row.data) : undefined;
  }

  async putRecording(r: RecordingRecord, expectVersion?: number): Promise<boolean> {
    const data = JSON.stringify(r);
    if (expectVersion === undefined) {
      await this.q`INSERT INTO recordings (session_id, server_id, "user", state, started_at, data)
        VALUES (${r.sessionId}, ${r.serverId}, ${r.user}, ${r.state}, ${r.startedAt.getTime()}, ${data})
        ON CONFLICT (session_id) DO UPDATE SET server_id = excluded.server_id, "user" = excluded."user", state = excluded.state,
          started_at = excluded.started_at, data = excluded.data`;
      return true;
    }
    // The version is read and compared in the row's own update: two replicas cannot both pass.
    const rows = expectVersion === 0
      ? await this.q`INSERT INTO recordings (session_id, server_id, "user", state, started_at, data)
          VALUES (${r.sessionId}, ${r.serverId}, ${r.user}, ${r.state}, ${r.startedAt.getTime()}, ${data})
          ON CONFLICT (session_id) DO UPDATE SET server_id = excluded.server_id, "user" = excluded."user", state = excluded.state,
            started_at = excluded.started_at, data = excluded.data
          WHERE coalesce((recordings.data::jsonb->>'version')::int, 0) = 0 RETURNING session_id`
      : await this.q`UPDATE recordings SET server_id = ${r.serverId}, "user" = ${r.user}, state = ${r.state}, started_at = ${r.startedAt.getTime()}, data = ${data}
          WHERE session_id = ${r.sessionId} AND coalesce((data::jsonb->>'version')::int, 0) = ${expectVersion} RETURNING session_id`;
    return rows.length > 0;
  }

  async listRecordings(q: RecordingQuery): Promise<RecordingRecord[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const arg = (v: string | number) => (args.push(v), `$${args.length}`);
    if (q.user) where.push(`"user" = ${arg(q.user)}`);
    if (q.serverId) where.push(`server_id = ${arg(q.serverId)}`);
    if (q.state) where.push(`state = ${arg(q.state)}`);
    const text = `SELECT data FROM recordings ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY started_at DESC LIMIT ${arg(q.limit)}`;
    return (await this.q.unsafe(text, args)).map((r: { data: string }) => decodeRecording(r.data));
  }

  async deleteRecording(sessionId: string): Promise<boolean> {
    return (await this.q`DELETE FROM recordings WHERE session_id = ${sessionId} RETURNING 1`).length === 1;
  }

  async usage(since: Date): Promise<RecordingUsage> {
    // Sizes come from the bookkeeping rows (the bytes each upload received), never from the bucket.
    const size = "COALESCE((data::jsonb->>'bytes')::bigint, 0)";
    const [total] = await this.q.unsafe(`SELECT COALESCE(SUM(${size}), 0)::float8 AS b, COUNT(*)::int AS n FROM recordings`);
    const days = await this.q.unsafe(`SELECT to_char(to_timestamp(started_at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, SUM(${size})::float8 AS b, COUNT(*)::int AS n
      FROM recordings WHERE started_at >= $1 GROUP BY day ORDER BY day`, [since.getTime()]);
    const nodes = await this.q.unsafe(`SELECT server_id, SUM(${size})::float8 AS b, COUNT(*)::int AS n FROM recordings WHERE started_at >= $1
      GROUP BY server_id ORDER BY b DESC`, [since.getTime()]);
    return {
      total: { bytes: total.b, recordings: total.n },
      days: days.map((d: { day: string; b: number; n: number }) => ({ day: d.day, bytes: d.b, recordings: d.n })),
      nodes: nodes.map((n: { server_id: string; b: number; n: number }) => ({ serverId: n.server_id, bytes: n.b, recordings: n.n })),
    };
  }

  async openRecordings(serverId?: string): Promise<RecordingRecord[]> {
    const rows = serverId
      ? await this.q`SELECT data FROM recordings WHERE state = 'open' AND server_id = ${serverId}`
      : await this.q`SELECT data FROM recordings WHERE state = 'open'`;
    return rows.map((r: { data: string }) => decodeRecording(r.data));
  }
}
