// The agent's side of max_connections: one lease on the auth service's
// `connection/<user>` semaphore per limited connection. Leases are renewed together
// every TTL/2; one that cannot be renewed before it expires (by this agent's own
// clock, counted from when the last successful request was sent) is reported lost.
// At start the agent tells the auth service that everything it held before is gone.
import { ApiError, type ApiClient } from "../platform/api-client.ts";
import type { Logger } from "../platform/logger.ts";

const TICK_MS = 250;
const RETRY_MS = 1_000;
const ACQUIRE_TIMEOUT_MS = 5_000;
const STARTED_RETRY_MAX_MS = 10_000;
/**
 * How long a refused connection waits for a lease on its way out elsewhere: the user's
 * previous connection may have closed on another node (or replica) a moment ago, and a
 * loop of short `ssh` jobs must not be refused for it. Only a user at the limit waits.
 */
const FULL_GRACE_MS = [150, 300, 600, 1_000];

export type AcquireOutcome =
  | { ok: true }
  | { ok: false; full: true; holders: number }
  | { ok: false; full: false; error: string };

export type LeaseLoss = "expired" | "removed";

interface Held {
  key: string;
  holder: string;
  /** Local deadline (ms since epoch); past it the lease may be gone at the auth service. */
  expiresAt: number;
  lost: (why: LeaseLoss) => void;
}

export class ConnectionLeases {
  readonly #held = new Map<string, Held>();
  readonly #releasing = new Set<Promise<void>>();
  #pendingRelease: { key: string; holder: string }[] = [];
  #ttlMs = 0;
  #retryAt = 0;
  #stopped = false;
  #renewing = false;
  #timer?: Timer;
  #announced?: Promise<boolean>;
  #announceOk = false;

  constructor(private readonly api: ApiClient, private readonly serverId: string, private readonly log: Logger, private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.#held.size;
  }

  /** Tells the auth service this agent (re)started, retrying in the background until it is heard. */
  start(): Promise<boolean> {
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    void this.#announceLoop();
    return this.#announce();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
  }

  /** Waits (bounded) for releases on their way, e.g. at shutdown. */
  async drain(timeoutMs = 2_000): Promise<void> {
    await Promise.race([Promise.all([...this.#releasing]), Bun.sleep(timeoutMs)]);
  }

  async acquire(user: string, connId: string, max: number, lost: (why: LeaseLoss) => void): Promise<AcquireOutcome> {
    if (!(await this.#announce())) return { ok: false, full: false, error: "the auth service is unreachable" };
    const first = await this.#tryAcquire(user, connId, max, lost);
    // A connection of this user that just closed may still be releasing its lease:
    // short sequential jobs must not be refused by a lease that is on its way out.
    if (first.ok || !first.full) return first;
    await Promise.all([...this.#releasing]);
    let outcome = await this.#tryAcquire(user, connId, max, lost);
    for (const ms of FULL_GRACE_MS) {
      if (outcome.ok || !outcome.full || this.#stopped) break;
      await Bun.sleep(ms);
      outcome = await this.#tryAcquire(user, connId, max, lost);
    }
    return outcome;
  }

  /** Drops the connection's lease now; if the auth service cannot be told, it is retried (and expires anyway). */
  release(connId: string): void {
    const held = this.#held.get(connId);
    if (!held) return;
    this.#held.delete(connId);
    const p = this.#sendRelease(held).finally(() => this.#releasing.delete(p));
    this.#releasing.add(p);
  }

  async #tryAcquire(user: string, connId: string, max: number, lost: (why: LeaseLoss) => void): Promise<AcquireOutcome> {
    const ref = { key: `connection/${user}`, holder: `${this.serverId}/${connId}` };
    const sentAt = this.now();
    this.log.debug("asking for a session control lease", { key: ref.key, holder: ref.holder, server: this.api.authServer });
    const req = this.api.request<{ acquired: boolean; holders?: number; ttl_ms?: number }>("POST", "/v1/semaphores/acquire", { ...ref, max });
    let timedOut = false;
    const res = await Promise.race([req, Bun.sleep(ACQUIRE_TIMEOUT_MS).then(() => { timedOut = true; return undefined; })]).catch((e: Error) => e);
    if (timedOut) {
      // It may still succeed later: give such a lease straight back.
      req.then((r) => (r.acquired ? this.#sendRelease(ref) : undefined)).catch(() => {});
      return { ok: false, full: false, error: "the auth service did not answer in time" };
    }
    if (res instanceof Error) {
      const reachable = res instanceof ApiError && res.status !== 0 && res.status < 500;
      return { ok: false, full: false, error: reachable ? res.message : "the auth service is unreachable" };
    }
    if (!res!.acquired) return { ok: false, full: true, holders: res!.holders ?? max };
    this.#ttlMs = res!.ttl_ms ?? this.#ttlMs;
    this.#held.set(connId, { ...ref, expiresAt: sentAt + this.#ttlMs, lost });
    return { ok: true };
  }

  async #sendRelease(l: { key: string; holder: string }): Promise<void> {
    try {
      await this.api.request("POST", "/v1/semaphores/release", { key: l.key, holder: l.holder });
    } catch (e) {
      if (e instanceof ApiError && e.status >= 400 && e.status < 500) return; // already gone or refused: nothing to retry
      this.#pendingRelease.push({ key: l.key, holder: l.holder });
      this.log.debug("lease release deferred", { key: l.key, error: e as Error });
    }
  }

  #tick(): void {
    const now = this.now();
    for (const [connId, h] of this.#held) {
      if (now < h.expiresAt) continue;
      this.#held.delete(connId);
      this.log.warn("session control lease expired before it could be renewed", { key: h.key, holder: h.holder });
      h.lost("expired");
    }
    if (this.#renewing || now < this.#retryAt) return;
    const due = [...this.#held.values()].some((h) => h.expiresAt - now <= this.#ttlMs / 2);
    if (due || this.#pendingRelease.length) void this.#renew(now);
  }

  async #renew(sentAt: number): Promise<void> {
    this.#renewing = true;
    const batch = [...this.#held.entries()];
    const releases = this.#pendingRelease.splice(0);
    try {
      for (const r of releases) await this.#sendRelease({ ...r });
      if (batch.length === 0) return;
      const res = await this.api.request<{ renewed: string[]; ttl_ms: number }>("POST", "/v1/semaphores/renew", {
        leases: batch.map(([, h]) => ({ key: h.key, holder: h.holder })),
      });
      this.#ttlMs = res.ttl_ms;
      const renewed = new Set(res.renewed);
      for (const [connId, h] of batch) {
        if (this.#held.get(connId) !== h) continue; // released meanwhile
        if (renewed.has(h.holder)) h.expiresAt = sentAt + res.ttl_ms;
        else {
          this.#held.delete(connId);
          h.lost("removed");
        }
      }
    } catch (e) {
      // Try again soon; the tick closes whatever expires first.
      this.#retryAt = sentAt + RETRY_MS;
      this.log.warn("session control leases not renewed", { leases: batch.length, error: (e as Error).message });
    } finally {
      this.#renewing = false;
    }
  }

  /** One attempt (shared by concurrent callers) unless one already succeeded. */
  #announce(): Promise<boolean> {
    if (this.#announceOk) return Promise.resolve(true);
    this.#announced ??= this.api.request<{ leases_released: number; sessions_lost: number }>("POST", "/v1/nodes/started", {})
      .then((r) => {
        this.#announceOk = true;
        this.log.info("told the auth service this agent started", { leases_released: r.leases_released, sessions_lost: r.sessions_lost });
        return true;
      })
      .catch((e: Error) => {
        this.log.warn("cannot tell the auth service this agent started yet", { error: e.message });
        return false;
      })
      .finally(() => (this.#announced = undefined));
    return this.#announced;
  }

  async #announceLoop(): Promise<void> {
    for (let wait = RETRY_MS; !this.#stopped && !(await this.#announce()); wait = Math.min(wait * 2, STARTED_RETRY_MAX_MS)) await Bun.sleep(wait);
  }
}
