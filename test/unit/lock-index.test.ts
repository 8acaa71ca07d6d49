import { describe, expect, test } from "bun:test";
import { LockIndex } from "../../src/core/lock-index.ts";
import { lockMatches, type AccessAttributes } from "../../src/core/lock-match.ts";
import { LOCK_TARGET_FIELDS, type Lock, type LockTarget } from "../../src/core/resource-types.ts";

const now = new Date("2026-01-01T00:00:00Z");
const lock = (name: string, target: LockTarget, expires?: Date): Lock =>
  expires ? { kind: "lock", name, target, expires } : { kind: "lock", name, target };

// A small deterministic PRNG so a failure can be replayed.
function rng(seed: number): () => number {
  return () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
}

function randomLock(rand: () => number, name: string): Lock {
  const target: LockTarget = {};
  for (const [field] of LOCK_TARGET_FIELDS) if (rand() < 0.3) target[field] = `v${Math.floor(rand() * 3)}`;
  const roll = rand();
  const expires = roll < 0.2 ? new Date(now.getTime() - 1000) : roll < 0.4 ? new Date(now.getTime() + 1000) : undefined;
  return lock(name, target, expires);
}

function randomAttributes(rand: () => number): AccessAttributes {
  const v = () => (rand() < 0.8 ? `v${Math.floor(rand() * 3)}` : undefined);
  const list = () => [v(), v()].filter((x): x is string => x !== undefined);
  return {
    user: v(), roles: list(), login: v(), serverId: v(), mfaDevice: v(),
    device: v(), accessRequests: list(), windowsDesktop: v(),
  };
}

describe("LockIndex", () => {
  test("match agrees with a linear scan on 1,000 random cases", () => {
    const rand = rng(42);
    let hits = 0;
    for (let round = 0; round < 1000; round++) {
      const index = new LockIndex();
      const locks = Array.from({ length: Math.floor(rand() * 8) }, (_, i) => randomLock(rand, `l${i}`));
      for (const l of locks) index.put(l);
      if (rand() < 0.3 && locks.length > 0) index.remove(locks.shift()!.name);
      const attrs = randomAttributes(rand);
      const naive = locks.filter((l) => lockMatches(l, attrs, now));
      const got = index.match(attrs, now);
      if (naive.length === 0) expect(got).toBeUndefined();
      else expect(naive).toContain(got!);
      if (got) hits++;
    }
    // Both outcomes must be well represented, or the comparison proves little.
    expect(hits).toBeGreaterThan(100);
    expect(hits).toBeLessThan(900);
  });

  test("finds the one matching lock among 100,000", () => {
    const index = new LockIndex();
    for (let i = 0; i < 100_000; i++) {
      const kind = i % 4;
      const target: LockTarget =
        kind === 0 ? { user: `user-${i}` } : kind === 1 ? { role: `role-${i % 500}`, login: `login-${i}` }
        : kind === 2 ? { serverId: `srv-${i}`, user: "alice" } : { login: "root", user: `user-${i}` };
      index.put(lock(`l${i}`, target));
    }
    index.put(lock("expired", { user: "alice" }, new Date(now.getTime() - 1)));
    expect(index.size).toBe(100_001);
    const attrs: AccessAttributes = { user: "alice", roles: ["role-1", "role-2"], login: "root", serverId: "srv-3" };
    expect(index.match(attrs, now)).toBeUndefined();
    index.put(lock("hit", { role: "role-2", login: "root" }));
    expect(index.match(attrs, now)?.name).toBe("hit");
    expect(index.match({ ...attrs, serverId: "srv-2" }, now)?.target).toEqual({ serverId: "srv-2", user: "alice" });
    index.remove("hit");
    expect(index.match(attrs, now)).toBeUndefined();
  });

  test("put replaces by name, remove, get, all", () => {
    const index = new LockIndex();
    index.put(lock("a", { user: "alice" }));
    index.put(lock("a", { user: "bob" }));
    expect(index.size).toBe(1);
    expect(index.match({ user: "alice" }, now)).toBeUndefined();
    expect(index.match({ user: "bob" }, now)?.name).toBe("a");
    expect(index.get("a")?.target).toEqual({ user: "bob" });
    expect(index.all().map((l) => l.name)).toEqual(["a"]);
    expect(index.remove("a")).toBe(true);
    expect(index.remove("a")).toBe(false);
    expect(index.size).toBe(0);
  });

  test("a lock with an empty target is kept but never matches", () => {
    const index = new LockIndex();
    index.put(lock("empty", {}));
    expect(index.size).toBe(1);
    expect(index.match({ user: "alice", roles: ["x"] }, now)).toBeUndefined();
    expect(index.remove("empty")).toBe(true);
  });

  test("nextExpiry and removeExpired", () => {
    const index = new LockIndex();
    const at = (s: number) => new Date(now.getTime() + s * 1000);
    index.put(lock("past", { user: "a" }, at(-5)));
    index.put(lock("soon", { user: "b" }, at(10)));
    index.put(lock("later", { user: "c" }, at(60)));
    index.put(lock("forever", { user: "d" }));
    expect(index.nextExpiry(now)).toEqual(at(10));
    expect(index.nextExpiry(at(10))).toEqual(at(60));
    expect(index.nextExpiry(at(60))).toBeUndefined();
    expect(index.removeExpired(at(10)).sort()).toEqual(["past", "soon"]);
    expect(index.all().map((l) => l.name).sort()).toEqual(["forever", "later"]);
  });
});
