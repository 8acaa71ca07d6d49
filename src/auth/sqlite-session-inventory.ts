// SQLite implementation of the SessionInventory: one row per session channel or refusal.
import type { Database } from "bun:sqlite";
import type { SessionInventory, SessionQuery, SessionRecord, StoredSessionState } from "./session-inventory.ts";
import type { SqliteGate } from "./sqlite-gate.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, state TEXT NOT NULL, node TEXT NOT NULL, user TEXT, login TEXT,
  kind TEXT, start_at INTEGER NOT NULL, end_at INTEGER, recorded INTEGER NOT NULL DEFAULT 0, reason TEXT, reason_kind TEXT);
CREATE INDEX IF NOT EXISTS sessions_start ON sessions (start_at);
CREATE INDEX IF NOT EXISTS sessions_node_state ON sessions (node, state);
CREATE INDEX IF NOT EXISTS sessions_state_start ON sessions (state, start_at);
CREATE INDEX IF NOT EXISTS sessions_user_start ON sessions (user, start_at);
`;

interface Row {
  id: string; state: string; node: string; user: string | null; login: string | null; kind: string | null;
  start_at: number; end_at: number | null; recorded: number; reason: string | null;
}

export class SqliteSessionInventory implements SessionInventory {
  constructor(private readonly db: Database, private readonly gate: SqliteGate) {}

  static migrate(db: Database): void {
    db.exec(SCHEMA);
  }

  started(s: Parameters<SessionInventory["started"]>[0]): Promise<void> {
    return this.gate(() => {
      this.db.query(`INSERT INTO sessions (id, state, node, user, login, kind, start_at, recorded) VALUES (?, 'active', ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, start_at = excluded.start_at,
          recorded = CASE WHEN ? IS NULL THEN recorded ELSE excluded.recorded END`)
        .run(s.id, s.node, s.user ?? null, s.login ?? null, s.kind ?? null, s.start.getTime(), s.recorded ? 1 : 0, s.recorded === undefined ? null : 1);
    });
  }

  ended(s: Parameters<SessionInventory["ended"]>[0]): Promise<void> {
    return this.gate(() => {
      // A lost session whose end arrives after all (it was in the outbox) becomes completed.
      this.db.query(`INSERT INTO sessions (id, state, node, user, login, start_at, end_at) VALUES (?, 'completed', ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET state = 'completed', end_at = excluded.end_at,
          reason = CASE WHEN state = 'lost' THEN NULL ELSE reason END`)
        .run(s.id, s.node, s.user ?? null, s.login ?? null, s.end.getTime(), s.end.getTime());
    });
  }

  rejected(s: Parameters<SessionInventory["rejected"]>[0]): Promise<void> {
    return this.gate(() => {
      this.db.query(`INSERT OR IGNORE INTO sessions (id, state, node, user, login, start_at, reason, reason_kind)
        VALUES (?, 'rejected', ?, ?, ?, ?, ?, ?)`)
        .run(s.id, s.node, s.user ?? null, s.login ?? null, s.time.getTime(), s.reason, s.reasonKind);
    });
  }

  noteReason(id: string, reason: string): Promise<void> {
    return this.gate(() => {
      this.db.query("UPDATE sessions SET reason = ? WHERE id = ? AND state != 'rejected'").run(reason, id);
    });
  }

  setRecorded(id: string, recorded: boolean): Promise<void> {
    return this.gate(() => {
      this.db.query("UPDATE sessions SET recorded = ? WHERE id = ?").run(recorded ? 1 : 0, id);
    });
  }

  markNodeLost(node: string, at: Date, reason: string): Promise<number> {
    return this.gate(() => {
      return this.db.query("UPDATE sessions SET state = 'lost', end_at = ?, reason = ? WHERE node = ? AND state = 'active'")
        .run(at.getTime(), reason, node).changes;
    });
  }

  nodeOf(id: string): Promise<string | undefined> {
    return this.gate(() => this.db.query<{ node: string }, [string]>("SELECT node FROM sessions WHERE id = ?").get(id)?.node);
  }

  list(q: SessionQuery): Promise<SessionRecord[]> {
    return this.gate(() => {
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (q.states?.length) { where.push(`state IN (${q.states.map(() => "?").join(", ")})`); args.push(...q.states); }
      if (q.user) { where.push("user = ?"); args.push(q.user); }
      if (q.node) { where.push("node = ?"); args.push(q.node); }
      if (q.login) { where.push("login = ?"); args.push(q.login); }
      if (q.since) { where.push("start_at >= ?"); args.push(q.since.getTime()); }
      if (q.until) { where.push("start_at < ?"); args.push(q.until.getTime()); }
      if (q.after) {
        // The plain range on start_at lets the index start at the cursor; the OR only breaks ties.
        where.push("start_at <= ? AND (start_at < ? OR id > ?)");
        args.push(q.after.start.getTime(), q.after.start.getTime(), q.after.id);
      }
      const sql = `SELECT * FROM sessions ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY start_at DESC, id LIMIT ?`;
      return this.db.query<Row, (string | number)[]>(sql).all(...args, q.limit).map(toRecord);
    });
  }

  counts(): Promise<{ states: Record<string, number>; rejections: Record<string, number> }> {
    return this.gate(() => {
      const states = this.db.query<{ k: string; n: number }, []>("SELECT state AS k, COUNT(*) AS n FROM sessions GROUP BY state").all();
      const rejections = this.db.query<{ k: string; n: number }, []>(
        "SELECT reason_kind AS k, COUNT(*) AS n FROM sessions WHERE state = 'rejected' GROUP BY reason_kind").all();
      const obj = (rows: { k: string; n: number }[]) => Object.fromEntries(rows.map((r) => [r.k ?? "other", r.n]));
      return { states: obj(states), rejections: obj(rejections) };
    });
  }
}

function toRecord(r: Row): SessionRecord {
  return {
    id: r.id, state: r.state as StoredSessionState, node: r.node,
    ...(r.user !== null ? { user: r.user } : {}), ...(r.login !== null ? { login: r.login } : {}), ...(r.kind !== null ? { kind: r.kind } : {}),
    start: new Date(r.start_at), ...(r.end_at !== null ? { end: new Date(r.end_at) } : {}),
    recorded: r.recorded === 1, ...(r.reason !== null ? { reason: r.reason } : {}),
  };
}
