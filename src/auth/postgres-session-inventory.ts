// PostgreSQL implementation of the SessionInventory: one row per session channel or
// refusal; every update is one idempotent statement.
import type { SQL } from "bun";
import type { SessionInventory, SessionQuery, SessionRecord, StoredSessionState } from "./session-inventory.ts";

interface Row {
  id: string; state: string; node: string; user: string | null; login: string | null; kind: string | null;
  start_at: string; end_at: string | null; recorded: boolean; reason: string | null;
}

export class PostgresSessionInventory implements SessionInventory {
  constructor(private readonly q: SQL) {}

  async started(s: Parameters<SessionInventory["started"]>[0]): Promise<void> {
    await this.q`INSERT INTO sessions (id, state, node, "user", login, kind, start_at, recorded)
      VALUES (${s.id}, 'active', ${s.node}, ${s.user ?? null}, ${s.login ?? null}, ${s.kind ?? null}, ${s.start.getTime()}, ${s.recorded ?? false})
      ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, start_at = excluded.start_at,
        recorded = CASE WHEN ${s.recorded === undefined} THEN sessions.recorded ELSE excluded.recorded END`;
  }

  async ended(s: Parameters<SessionInventory["ended"]>[0]): Promise<void> {
    // A lost session whose end arrives after all (it was in the outbox) becomes completed.
    await this.q`INSERT INTO sessions (id, state, node, "user", login, start_at, end_at)
      VALUES (${s.id}, 'completed', ${s.node}, ${s.user ?? null}, ${s.login ?? null}, ${s.end.getTime()}, ${s.end.getTime()})
      ON CONFLICT (id) DO UPDATE SET state = 'completed', end_at = excluded.end_at,
        reason = CASE WHEN sessions.state = 'lost' THEN NULL ELSE sessions.reason END`;
  }

  async rejected(s: Parameters<SessionInventory["rejected"]>[0]): Promise<void> {
    await this.q`INSERT INTO sessions (id, state, node, "user", login, start_at, reason, reason_kind)
      VALUES (${s.id}, 'rejected', ${s.node}, ${s.user ?? null}, ${s.login ?? null}, ${s.time.getTime()}, ${s.reason}, ${s.reasonKind})
      ON CONFLICT (id) DO NOTHING`;
  }

  async noteReason(id: string, reason: string): Promise<void> {
    await this.q`UPDATE sessions SET reason = ${reason} WHERE id = ${id} AND state != 'rejected'`;
  }

  async setRecorded(id: string, recorded: boolean): Promise<void> {
    await this.q`UPDATE sessions SET recorded = ${recorded} WHERE id = ${id}`;
  }

  async markNodeLost(node: string, at: Date, reason: string): Promise<number> {
    return (await this.q`UPDATE sessions SET state = 'lost', end_at = ${at.getTime()}, reason = ${reason}
      WHERE node = ${node} AND state = 'active' RETURNING 1`).length;
  }

  async nodeOf(id: string): Promise<string | undefined> {
    const [row] = await this.q`SELECT node FROM sessions WHERE id = ${id}`;
    return row?.node;
  }

  async list(q: SessionQuery): Promise<SessionRecord[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const arg = (v: string | number) => (args.push(v), `$${args.length}`);
    if (q.states?.length) where.push(`state IN (${q.states.map(arg).join(", ")})`);
    if (q.user) where.push(`"user" = ${arg(q.user)}`);
    if (q.node) where.push(`node = ${arg(q.node)}`);
    if (q.login) where.push(`login = ${arg(q.login)}`);
    if (q.since) where.push(`start_at >= ${arg(q.since.getTime())}`);
    if (q.until) where.push(`start_at < ${arg(q.until.getTime())}`);
    if (q.after) {
      const [start, id] = [arg(q.after.start.getTime()), arg(q.after.id)];
      // The plain range on start_at lets the index start at the cursor; the OR only breaks ties.
      where.push(`start_at <= ${start} AND (start_at < ${start} OR id COLLATE "C" > ${id})`);
    }
    const text = `SELECT * FROM sessions ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY start_at DESC, id COLLATE "C" LIMIT ${arg(q.limit)}`;
    return (await this.q.unsafe(text, args)).map(toRecord);
  }

  async counts(): Promise<{ states: Record<string, number>; rejections: Record<string, number> }> {
    const states = await this.q`SELECT state AS k, count(*)::int AS n FROM sessions GROUP BY state`;
    const rejections = await this.q`SELECT reason_kind AS k, count(*)::int AS n FROM sessions WHERE state = 'rejected' GROUP BY reason_kind`;
    const obj = (rows: { k: string | null; n: number }[]) => Object.fromEntries(rows.map((r) => [r.k ?? "other", r.n]));
    return { states: obj(states), rejections: obj(rejections) };
  }
}

function toRecord(r: Row): SessionRecord {
  return {
    id: r.id, state: r.state as StoredSessionState, node: r.node,
    ...(r.user !== null ? { user: r.user } : {}), ...(r.login !== null ? { login: r.login } : {}), ...(r.kind !== null ? { kind: r.kind } : {}),
    start: new Date(Number(r.start_at)), ...(r.end_at !== null ? { end: new Date(Number(r.end_at)) } : {}),
    recorded: r.recorded, ...(r.reason !== null ? { reason: r.reason } : {}),
  };
}
