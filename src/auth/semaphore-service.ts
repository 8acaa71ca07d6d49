// The auth side of max_connections: leases on `connection/<user>`, TTL
// cluster_config.session_control_timeout. A node takes, renews and releases leases
// only as itself: the holder must be `<its server UUID>/<connection id>`.
import type { Duration } from "../core/duration.ts";
import { DEFAULT_CLUSTER_CONFIG, isValidName } from "../core/resource-types.ts";
import { badRequest, forbidden } from "./http-error.ts";
import type { Lease } from "./semaphore-store.ts";
import type { Store } from "./store.ts";

const HOLDER_RE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/[A-Za-z0-9._-]{1,128}$/;
const MAX_RENEW = 10_000;

export interface LeaseRef {
  key: string;
  holder: string;
}

export class SemaphoreService {
  constructor(private readonly store: Store, private readonly now: () => Date) {}

  async ttl(): Promise<Duration> {
    return ((await this.store.getResource("cluster_config", "cluster_config")) ?? DEFAULT_CLUSTER_CONFIG).sessionControlTimeout;
  }

  async acquire(node: string, ref: LeaseRef, max: number): Promise<{ acquired: true; expires: Date; ttl: Duration } | { acquired: false; holders: number }> {
    checkKey(ref.key);
    checkHolder(node, ref.holder);
    if (!Number.isSafeInteger(max) || max < 1) throw badRequest("max: expected a positive integer");
    const now = this.now();
    const ttl = await this.ttl();
    const res = await this.store.semaphores.acquire({ ...ref, node, expiresAt: new Date(now.getTime() + ttl) }, max, now);
    return res.ok ? { acquired: true, expires: res.lease.expiresAt, ttl } : { acquired: false, holders: res.holders };
  }

  async renew(node: string, refs: LeaseRef[]): Promise<{ renewed: string[]; expires: Date; ttl: Duration }> {
    if (refs.length > MAX_RENEW) throw badRequest(`leases: at most ${MAX_RENEW} at once`);
    for (const r of refs) {
      checkKey(r.key);
      checkHolder(node, r.holder);
    }
    const now = this.now();
    const ttl = await this.ttl();
    const expires = new Date(now.getTime() + ttl);
    return { renewed: await this.store.semaphores.renew(node, refs, expires, now), expires, ttl };
  }

  release(node: string, ref: LeaseRef): Promise<boolean> {
    checkKey(ref.key);
    checkHolder(node, ref.holder);
    return this.store.semaphores.release(ref.key, ref.holder);
  }

  list(key?: string): Promise<Lease[]> {
    return this.store.semaphores.list(this.now(), key);
  }

  /** An operator clears the leases on `key` (one holder's, or all): the leases removed. */
  async remove(key: string, holder?: string): Promise<Lease[]> {
    const targets = (await this.list(key)).filter((l) => !holder || l.holder === holder);
    for (const l of targets) await this.store.semaphores.release(l.key, l.holder);
    return targets;
  }

  /** A (re)started node held nothing any more: drop every lease it had. */
  releaseNode(node: string): Promise<number> {
    return this.store.semaphores.releaseNode(node);
  }
}

function checkKey(key: string): void {
  const m = /^connection\/(.+)$/.exec(key);
  if (!m || !isValidName("user", m[1]!)) throw badRequest(`key: expected "connection/<user>", got ${JSON.stringify(key.slice(0, 100))}`);
}

/** A node acts only for itself: refusing another node's holder is the whole point. */
function checkHolder(node: string, holder: string): void {
  const m = HOLDER_RE.exec(holder);
  if (!m) throw badRequest(`holder: expected "<server UUID>/<connection id>", got ${JSON.stringify(holder.slice(0, 100))}`);
  if (m[1] !== node) throw forbidden(`holder ${JSON.stringify(holder)} belongs to another node; a node may only hold leases as itself`);
}
