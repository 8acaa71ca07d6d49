// SQLite implementation of the SemaphoreStore: one row per lease. Expired rows are
// swept as they are met, so a lease that was never released stops counting on time.
import type { Database } from "bun:sqlite";
import type { AcquireResult, Lease, SemaphoreStore } from "./semaphore-store.ts";
import type { SqliteGate } from "./sqlite-gate.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS semaphore_leases (key TEXT NOT NULL, holder TEXT NOT NULL, node TEXT NOT NULL,
  acquired_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (key, holder));
CREATE INDEX IF NOT EXISTS semaphore_leases_node ON semaphore_leases (node);
`;

interface Row { key: string; holder: string; node: string; acquired_at: number; expires_at: number }

export class SqliteSemaphoreStore implements SemaphoreStore {
  constructor(private readonly db: Database, private readonly gate: SqliteGate) {}

  static migrate(db: Database): void {
    db.exec(SCHEMA);
  }

  acquire(lease: Omit<Lease, "acquiredAt">, max: number, now: Date): Promise<AcquireResult> {
    return this.gate(this.db.transaction((): AcquireResult => {
      this.db.query("DELETE FROM semaphore_leases WHERE key = ? AND expires_at <= ?").run(lease.key, now.getTime());
      const mine = this.db.query<Row, [string, string]>("SELECT * FROM semaphore_leases WHERE key = ? AND holder = ?").get(lease.key, lease.holder);
      if (mine) {
        this.db.query("UPDATE semaphore_leases SET expires_at = ? WHERE key = ? AND holder = ?").run(lease.expiresAt.getTime(), lease.key, lease.holder);
        return { ok: true, lease: { ...toLease(mine), expiresAt: lease.expiresAt } };
      }
      const held = this.db.query<{ n: number }, [string]>("SELECT COUNT(*) AS n FROM semaphore_leases WHERE key = ?").get(lease.key)?.n ?? 0;
      if (held >= max) return { ok: false, holders: held };
      this.db.query("INSERT INTO semaphore_leases (key, holder, node, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?)")
        .run(lease.key, lease.holder, lease.node, now.getTime(), lease.expiresAt.getTime());
      return { ok: true, lease: { ...lease, acquiredAt: now } };
    }));
  }

  renew(node: string, leases: { key: string; holder: string }[], expiresAt: Date, now: Date): Promise<string[]> {
    return this.gate(this.db.transaction(() => {
      const update = this.db.query("UPDATE semaphore_leases SET expires_at = ? WHERE key = ? AND holder = ? AND node = ? AND expires_at > ?");
      const renewed: string[] = [];
      for (const l of leases) {
        if (update.run(expiresAt.getTime(), l.key, l.holder, node, now.getTime()).changes === 1) renewed.push(l.holder);
      }
      return renewed;
    }));
  }

  release(key: string, holder: string): Promise<boolean> {
    return this.gate(() => this.db.query("DELETE FROM semaphore_leases WHERE key = ? AND holder = ?").run(key, holder).changes === 1);
  }

  releaseNode(node: string): Promise<number> {
    return this.gate(() => this.db.query("DELETE FROM semaphore_leases WHERE node = ?").run(node).changes);
  }

  list(now: Date, key?: string): Promise<Lease[]> {
    return this.gate(() => this.#list(now, key));
  }

  #list(now: Date, key?: string): Lease[] {
    this.db.query("DELETE FROM semaphore_leases WHERE expires_at <= ?").run(now.getTime());
    const rows = key === undefined
      ? this.db.query<Row, []>("SELECT * FROM semaphore_leases ORDER BY key, acquired_at").all()
      : this.db.query<Row, [string]>("SELECT * FROM semaphore_leases WHERE key = ? ORDER BY acquired_at").all(key);
    return rows.map(toLease);
  }
}

function toLease(r: Row): Lease {
  return { key: r.key, holder: r.holder, node: r.node, acquiredAt: new Date(r.acquired_at), expiresAt: new Date(r.expires_at) };
}
