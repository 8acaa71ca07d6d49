// An in-memory set of locks with fast matching against an access attempt.
// Each lock is filed under one of its target values, so match() looks only at plausible candidates.
// A lock must match every field it sets, so any one of them is a sound place to file it; we
// pick the one whose bucket is smallest now, so that 10,000 locks sharing a login (or this
// node's server UUID) do not make every check on that login scan them all.

import { lockIsActive, lockMatches, type AccessAttributes } from "./lock-match.ts";
import type { Lock, LockTarget } from "./resource-types.ts";

// The order match() walks the buckets in; ties in filing go to the earlier (more specific) field.
const _FILING_ORDER: (keyof LockTarget)[] = [
  "serverId", "device", "mfaDevice", "accessRequest", "windowsDesktop", "user", "login", "role",
];

export class LockIndex {
  private readonly byName = new Map<string, Lock>();
  private readonly filedUnder = new Map<string, [keyof LockTarget, string]>();
  private readonly buckets = new Map<keyof LockTarget, Map<string, Set<Lock>>>(
    _FILING_ORDER.map((f) => [f, new Map()]),
  );

  /** Adds a lock or replaces the one with the same name. */
  put(lock: Lock): void {
    this.remove(lock.name);
    this.byName.set(lock.name, lock);
    const filing = this.#smallestFiling(lock);
    if (!filing) return; // an empty target matches nothing; keep it listed but never a candidate
    this.filedUnder.set(lock.name, filing);
    const bucket = this.buckets.get(filing[0])!;
    let set = bucket.get(filing[1]);
    if (!set) bucket.set(filing[1], (set = new Set()));
    set.add(lock);
  }

  remove(name: string): boolean {
    const lock = this.byName.get(name);
    if (!lock) return false;
    this.byName.delete(name);
    const filing = this.filedUnder.get(name);
    this.filedUnder.delete(name);
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

  #smallestFiling(lock: Lock): [keyof LockTarget, string] | undefined {
    let best: [keyof LockTarget, string] | undefined;
    let bestSize = Infinity;
    for (const field of _FILING_ORDER) {
      const v = lock.target[field];
      if (v === undefined) continue;
      const size = this.buckets.get(field)!.get(v)?.size ?? 0;
      if (size < bestSize) [best, bestSize] = [[field, v], size];
    }
    return best;
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


function _values(field: keyof LockTarget, a: AccessAttributes): readonly string[] {
  if (field === "role") return a.roles ?? [];
  if (field === "accessRequest") return a.accessRequests ?? [];
  const v = a[field];
  return v === undefined ? [] : [v];
}
