// PostgreSQL implementation of the SemaphoreStore: one row per lease. Acquire counts
// and inserts under a per-key advisory lock, so replicas never admit more than max.
import type { SQL } from "bun";
import type { AcquireResult, Lease, SemaphoreStore } from "./semaphore-store.ts";

interface Row { key: string; holder: string; node: string; acquired_at: string; expires_at: string }
type InTx = <T>(fn: (q: SQL) => Promise<T>) => Promise<T>;

export class PostgresSemaphoreStore implements SemaphoreStore {
  constructor(private readonly q: SQL, private readonly tx: InTx) {}

  acquire(lease: Omit<Lease, "acquiredAt">, max: number, now: Date): Promise<AcquireResult> {
    return this.tx(async (q): Promise<AcquireResult> => {
      await q`SELECT pg_advisory_xact_lock(hashtextextended(${"semaphore/" + lease.key}, 0))`;
      await q`DELETE FROM semaphore_leases WHERE key = ${lease.key} AND expires_at <= ${now.getTime()}`;
      const [mine] = await q`UPDATE semaphore_leases SET expires_at = ${lease.expiresAt.getTime()}
        WHERE key = ${lease.key} AND holder = ${lease.holder} RETURNING *`;
      if (mine) return { ok: true, lease: toLease(mine) };
      const [{ n }] = await q`SELECT count(*)::int AS n FROM semaphore_leases WHERE key = ${lease.key}`;
      if (n >= max) return { ok: false, holders: n };
      await q`INSERT INTO semaphore_leases (key, holder, node, acquired_at, expires_at)
        VALUES (${lease.key}, ${lease.holder}, ${lease.node}, ${now.getTime()}, ${lease.expiresAt.getTime()})`;
      return { ok: true, lease: { ...lease, acquiredAt: now } };
    });
  }

  async renew(node: string, leases: { key: string; holder: string }[], expiresAt: Date, now: Date): Promise<string[]> {
    if (leases.length === 0) return [];
    const rows = await this.q`UPDATE semaphore_leases l SET expires_at = ${expiresAt.getTime()}
      FROM (SELECT unnest(${this.q.array(leases.map((l) => l.key), "text")}::text[]) AS key,
                   unnest(${this.q.array(leases.map((l) => l.holder), "text")}::text[]) AS holder) r
      WHERE l.key = r.key AND l.holder = r.holder AND l.node = ${node} AND l.expires_at > ${now.getTime()}
      RETURNING l.holder`;
    const renewed = new Set(rows.map((r: { holder: string }) => r.holder));
    return leases.map((l) => l.holder).filter((h) => renewed.has(h));
  }

  async release(key: string, holder: string): Promise<boolean> {
    return (await this.q`DELETE FROM semaphore_leases WHERE key = ${key} AND holder = ${holder} RETURNING 1`).length === 1;
  }

  async releaseNode(node: string): Promise<number> {
    return (await this.q`DELETE FROM semaphore_leases WHERE node = ${node} RETURNING 1`).length;
  }

  async list(now: Date, key?: string): Promise<Lease[]> {
    await this.q`DELETE FROM semaphore_leases WHERE expires_at <= ${now.getTime()}`;
    const rows = key === undefined
      ? await this.q`SELECT * FROM semaphore_leases ORDER BY key, acquired_at, holder`
      : await this.q`SELECT * FROM semaphore_leases WHERE key = ${key} ORDER BY acquired_at, holder`;
    return rows.map(toLease);
  }
}

function toLease(r: Row): Lease {
  return { key: r.key, holder: r.holder, node: r.node, acquiredAt: new Date(Number(r.acquired_at)), expiresAt: new Date(Number(r.expires_at)) };
}
