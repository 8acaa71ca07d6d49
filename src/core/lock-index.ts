// An in-memory set of locks with fast matching against an access attempt.
// Each lock is filed under one of its target values, so match() looks only at plausible candidates.

import { lockIsActive, lockMatches, type AccessAttributes } from "./lock-match.ts";
import type { Lock, LockTarget } from "./resource-types.ts";

// The field a lock is filed under: its first set field in this order, most specific first, so that
// buckets stay small (many locks share a role or login, few share a server UUID and a user).
const _FILING_ORDER: (keyof LockTarget)[] = [
  "serverId", "device", "mfaDevice", "accessRequest", "windowsDesktop", "user", "login", "role",
];

export class LockIndex {
  private readonly byName = new Map<string, Lock>();
  private readonly buckets = new Map<keyof LockTarget, Map<string, Set<Lock>>>(
    _FILING_ORDER.map((f) => [f, new Map()]),
  );

  /** Adds a lock or replaces the one with the same name. */
  put(lock: Lock): void {
    this.remove(lock.name);
    this.byName.set(lock.name, lock);
    const filing = _filing(lock);
    if (!filing) return; // an empty target matches nothing; keep it listed but never a candidate
    const bucket = this.buckets.get(filing[0])!;
    let set = bucket.get(filing[1]);
    if (!set) bucket.set(filing[1], (set = new Set()));
    set.add(lock);
  }

  remove(name: string): boolean {
    const lock = this.byName.get(name);
    if (!lock) return false;
    this.byName.delete(name);
    const filing = _filing(lock);
    if (filing) {
      const bucket = this.buckets.get(filing[0])!;
      const set = bucket.get(filing[1]);
      set?.delete(lock);
      if (set?.size === 0) bucket.delete(filing[1]);
    }
    return true;
  }

  get(name: string): Lock | undefined {
    return this.byName.get(name);
  }

  get size(): number {
    return this.byName.size;
  }

  all(): Lock[] {
    return [...this.byName.values()];
  }

  /** Some active lock that matches the attempt, or undefined. */
  match(a: AccessAttributes, now: Date): Lock | undefined {
    for (const field of _FILING_ORDER) {
      const bucket = this.buckets.get(field)!;
      if (bucket.size === 0) continue;
      for (const value of _values(field, a)) {
        for (const lock of bucket.get(value) ?? []) {
          if (lockMatches(lock, a, now)) return lock;
        }
      }
    }
    return undefined;
  }

  /** The earliest expiry still ahead of now, for scheduling a cleanup. */
  nextExpiry(now: Date): Date | undefined {
    let next: Date | undefined;
    for (const lock of this.byName.values()) {
      const e = lock.expires;
      if (e && e.getTime() > now.getTime() && (!next || e.getTime() < next.getTime())) next = e;
    }
    return next;
  }

  /** Drops locks that have expired by now and returns their names. */
  removeExpired(now: Date): string[] {
    const gone = this.all().filter((l) => !lockIsActive(l, now)).map((l) => l.name);
    for (const name of gone) this.remove(name);
    return gone;
  }
}

function _filing(lock: Lock): [keyof LockTarget, string] | undefined {
  for (const field of _FILING_ORDER) {
    const v = lock.target[field];
    if (v !== undefined) return [field, v];
  }
  return undefined;
}

function _values(field: keyof LockTarget, a: AccessAttributes): readonly string[] {
  if (field === "role") return a.roles ?? [];
  if (field === "accessRequest") return a.accessRequests ?? [];
  const v = a[field];
  return v === undefined ? [] : [v];
}
