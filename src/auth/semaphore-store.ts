// Storage contract for the cluster's semaphores: leases on a key such as
// `connection/alice`, each held by one connection on one node until it expires or is
// released. Every method is atomic on its own, also between replicas
// sharing one PostgreSQL (acquire counts and inserts under a per-key lock).

export interface Lease {
  key: string;
  /** `<server UUID>/<connection id>`: the node and the connection that hold it. */
  holder: string;
  node: string;
  acquiredAt: Date;
  expiresAt: Date;
}

export type AcquireResult = { ok: true; lease: Lease } | { ok: false; holders: number };

export interface SemaphoreStore {
  /**
   * Takes a lease when fewer than `max` unexpired leases hold `key`. Acquiring a lease
   * the holder already has renews it (a retried request must not count twice).
   */
  acquire(lease: Omit<Lease, "acquiredAt">, max: number, now: Date): Promise<AcquireResult>;
  /** Extends the given leases of `node`; returns the holders that were still held. */
  renew(node: string, leases: { key: string; holder: string }[], expiresAt: Date, now: Date): Promise<string[]>;
  /** Returns false when there was no such lease. */
  release(key: string, holder: string): Promise<boolean>;
  /** Drops every lease a node holds (it restarted); returns how many. */
  releaseNode(node: string): Promise<number>;
  /** Unexpired leases, optionally of one key, ordered by key then acquisition. */
  list(now: Date, key?: string): Promise<Lease[]>;
}
