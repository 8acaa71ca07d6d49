// PostgreSQL implementation of RecordingStore: one row per session recording, the part
// bookkeeping as JSON (a handful of entries per session).
import type { SQL } from "bun";
import type { RecordingQuery, RecordingRecord, RecordingStore } from "../recording/recording-store.ts";

export class PostgresRecordingStore implements RecordingStore {
  constructor(private readonly q: SQL) {}

  async getRecording(sessionId: string): Promise<RecordingRecord | undefined> {
    const [row] = await this.q`SELECT data FROM recordings WHERE session_id = ${sessionId}`;
    return row ? decode(row.data) : undefined;
  }

  async putRecording(r: RecordingRecord): Promise<void> {
    await this.q`INSERT INTO recordings (session_id, server_id, "user", state, started_at, data)
      VALUES (${r.sessionId}, ${r.serverId}, ${r.user}, ${r.state}, ${r.startedAt.getTime()}, ${JSON.stringify(r)})
      ON CONFLICT (session_id) DO UPDATE SET server_id = excluded.server_id, "user" = excluded."user", state = excluded.state,
        started_at = excluded.started_at, data = excluded.data`;
  }

  async listRecordings(q: RecordingQuery): Promise<RecordingRecord[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const arg = (v: string | number) => (args.push(v), `$${args.length}`);
    if (q.user) where.push(`"user" = ${arg(q.user)}`);
    if (q.serverId) where.push(`server_id = ${arg(q.serverId)}`);
    if (q.state) where.push(`state = ${arg(q.state)}`);
    const text = `SELECT data FROM recordings ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY started_at DESC LIMIT ${arg(q.limit)}`;
    return (await this.q.unsafe(text, args)).map((r: { data: string }) => decode(r.data));
  }

  async deleteRecording(sessionId: string): Promise<boolean> {
    return (await this.q`DELETE FROM recordings WHERE session_id = ${sessionId} RETURNING 1`).length === 1;
  }

  async openRecordings(serverId?: string): Promise<RecordingRecord[]> {
    const rows = serverId
      ? await this.q`SELECT data FROM recordings WHERE state = 'open' AND server_id = ${serverId}`
      : await this.q`SELECT data FROM recordings WHERE state = 'open'`;
    return rows.map((r: { data: string }) => decode(r.data));
  }
}

function decode(data: string): RecordingRecord {
  const r = JSON.parse(data);
  return { ...r, startedAt: new Date(r.startedAt), updatedAt: new Date(r.updatedAt), ...(r.completedAt ? { completedAt: new Date(r.completedAt) } : {}) };
}
