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
    /** Called once per sweep with every connection it cut, after they are all closed. */
    private readonly onCut: (cut: { conn: SshConnection; reason: string; sids: string[] }[]) => void,
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

  /**
   * Closes every connection the guard now refuses; returns how many. Closing comes
   * first for all of them, bookkeeping (logs, audit) after, so the last cut does not
   * wait on the disk writes of the ones before it.
   */
  sweep(): number {
    this.#watchNodeLock();
    const cut: { conn: SshConnection; reason: string; sids: string[] }[] = [];
    for (const conn of this.connections()) {
      if (!conn.subject || conn.closed) continue;
      const reason = this.guard.check(conn.subject)?.reason;
      if (!reason) continue;
      // Its sessions' ids first: the audit says which sessions the lock cut (the inventory shows why).
      const sids = [...conn.sessions].map((s) => s.id);
      conn.close(reason);
      cut.push({ conn, reason, sids });
    }
    if (cut.length === 0) return 0;
    for (const { conn, reason } of cut) this.log.warn("closed connection", { conn: conn.id, user: conn.user, login: conn.login, reason });
    this.onCut(cut);
    return cut.length;
  }

  #watchNodeLock(): void {
    const lock = this.guard.nodeLock();
    if (!!lock === this.#nodeLocked) return;
    this.#nodeLocked = !!lock;
    if (lock) this.log.warn("this node is locked: every connection is refused", { lock: lock.name, message: lock.message });
    else this.log.info("the lock on this node was lifted");
  }
}
