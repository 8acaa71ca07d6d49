// Cuts live connections the moment a lock matches them or, for strict identities, the
// moment the lock view goes stale (checked on every view change and four times a second).
import type { Logger } from "../platform/logger.ts";
import type { AccessGuard } from "./access-guard.ts";
import type { ClusterView } from "./cluster-view.ts";
import type { SshConnection } from "./ssh-connection.ts";

const TICK_MS = 250;

export class LockEnforcer {
  #timer?: Timer;
  #unsubscribe?: () => void;
  #nodeLocked = false;

  constructor(
    private readonly view: ClusterView,
    private readonly guard: AccessGuard,
    private readonly connections: () => Iterable<SshConnection>,
    private readonly onCut: (c: SshConnection, reason: string) => void,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.#unsubscribe = this.view.onChange(() => this.sweep());
    this.#timer = setInterval(() => this.sweep(), TICK_MS);
    this.sweep();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#unsubscribe?.();
  }

  /** Closes every connection the guard now refuses; returns how many. */
  sweep(): number {
    this.#watchNodeLock();
    let cut = 0;
    for (const c of this.connections()) {
      if (!c.subject || c.closed) continue;
      const reason = this.guard.check(c.subject);
      if (!reason) continue;
      this.log.warn("closing connection", { conn: c.id, user: c.user, login: c.login, reason });
      c.close(reason);
      this.onCut(c, reason);
      cut++;
    }
    return cut;
  }

  #watchNodeLock(): void {
    const lock = this.guard.nodeLock();
    if (!!lock === this.#nodeLocked) return;
    this.#nodeLocked = !!lock;
    if (lock) this.log.warn("this node is locked: every connection is refused", { lock: lock.name, message: lock.message });
    else this.log.info("the lock on this node was lifted");
  }
}
