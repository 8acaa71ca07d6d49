// Whether a lock applies to an access attempt, and the one-line message users see when it does.
// A lock matches when every field set in its target equals the attempt's attribute.

import { LOCK_TARGET_FIELDS, type Lock, type LockTarget } from "./resource-types.ts";

/** What an access attempt is, for lock matching: who, as which roles, as which login, where. */
export interface AccessAttributes {
  user?: string;
  roles?: string[];
  login?: string;
  serverId?: string;
  mfaDevice?: string;
  device?: string;
  accessRequests?: string[];
  windowsDesktop?: string;
}

/** A lock is in force until its expiry instant; at `expires` itself it no longer is. */
export function lockIsActive(lock: Lock, now: Date): boolean {
  return lock.expires === undefined || lock.expires.getTime() > now.getTime();
}

/** True when the lock is active and every target field it sets matches; an empty target matches nothing. */
export function lockMatches(lock: Lock, a: AccessAttributes, now: Date): boolean {
  if (!lockIsActive(lock, now)) return false;
  let fields = 0;
  for (const [field] of LOCK_TARGET_FIELDS) {
    const want = lock.target[field];
    if (want === undefined) continue;
    fields++;
    if (!targetFieldMatches(field, want, a)) return false;
  }
  return fields > 0;
}

/** Whether one target field's value is among the attempt's values for that field. */
export function targetFieldMatches(field: keyof LockTarget, want: string, a: AccessAttributes): boolean {
  switch (field) {
    case "role":
      return a.roles?.includes(want) ?? false;
    case "accessRequest":
      return a.accessRequests?.includes(want) ?? false;
    default:
      return a[field] === want;
  }
}

/** `lock targeting User:"alice", Login:"root" is in force: Suspicious activity.` */
export function lockMessage(lock: Lock): string {
  const parts: string[] = [];
  for (const [field, , display] of LOCK_TARGET_FIELDS) {
    const v = lock.target[field];
    if (v !== undefined) parts.push(`${display}:${JSON.stringify(v)}`);
  }
  const base = `lock targeting ${parts.join(", ")} is in force`;
  return lock.message ? `${base}: ${lock.message}` : base;
}
