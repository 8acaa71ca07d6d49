// Whether an identity may use this node right now: no lock in force matches it, and
// a strict identity is not running on a stale lock view. Asked at login,
// at each new session channel, and again whenever the view changes or goes stale.
import { lockingModeFor } from "../core/access-policy.ts";
import { lockMessage, type AccessAttributes } from "../core/lock-match.ts";
import type { Refusal } from "../core/refusal-kind.ts";
import type { Lock, Role } from "../core/resource-types.ts";
import type { ClusterView } from "./cluster-view.ts";

export interface AccessSubject {
  user: string;
  roleNames: string[];
  roles: Role[];
  login: string;
  /** Device, MFA device and access requests the certificate names, if any. */
  certAttributes: Pick<AccessAttributes, "device" | "mfaDevice" | "accessRequests">;
}

export class AccessGuard {
  constructor(private readonly view: ClusterView, readonly serverId: string, private readonly now: () => Date = () => new Date()) {}

  /** The refusal (a lock, or a stale view for a strict identity), or undefined when access is allowed now. */
  check(s: AccessSubject): Refusal | undefined {
    const now = this.now();
    const lock = this.view.locks.match({ user: s.user, roles: s.roleNames, login: s.login, serverId: this.serverId, ...s.certAttributes }, now);
    if (lock) return { kind: "lock", reason: lockMessage(lock) };
    if (lockingModeFor(s.roles, this.view.clusterConfig) === "strict" && this.isStale(now)) return { kind: "stale_view", reason: this.staleMessage() };
    return undefined;
  }

  isStale(now = this.now()): boolean {
    const last = this.view.lastSyncedAt;
    return !last || now.getTime() - last.getTime() > this.view.clusterConfig.lockMaxStaleness;
  }

  staleMessage(): string {
    return `preventive lock-out: lock view is stale (last synced ${this.view.lastSyncedAt?.toISOString() ?? "never"})`;
  }

  /** A lock on this node's own server UUID: the node is being unregistered. */
  nodeLock(): Lock | undefined {
    return this.view.locks.match({ serverId: this.serverId }, this.now());
  }
}
