// The SemaphoreStore contract, run against every implementation (SQLite today).
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import type { SemaphoreStore } from "../../src/auth/semaphore-store.ts";
import { SqliteSemaphoreStore } from "../../src/auth/sqlite-semaphore-store.ts";

const IMPLEMENTATIONS: [string, () => SemaphoreStore][] = [
  ["sqlite", () => new SqliteSemaphoreStore(new Database(":memory:", { strict: true }))],
];

const T0 = new Date("2026-01-01T00:00:00Z");
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const N1 = "11111111-1111-4111-8111-111111111111";
const N2 = "22222222-2222-4222-8222-222222222222";
const lease = (node: string, conn: string, expiresS: number) => ({ key: "connection/alice", holder: `${node}/${conn}`, node, expiresAt: at(expiresS) });

for (const [name, make] of IMPLEMENTATIONS) {
  describe(`${name} semaphore store`, () => {
    test("admits up to max holders, then refuses with the count", () => {
      const s = make();
      expect(s.acquire(lease(N1, "a", 60), 2, at(0)).ok).toBe(true);
      expect(s.acquire(lease(N2, "b", 60), 2, at(0)).ok).toBe(true);
      expect(s.acquire(lease(N1, "c", 60), 2, at(0))).toEqual({ ok: false, holders: 2 });
      expect(s.acquire({ ...lease(N1, "c", 60), key: "connection/bob" }, 2, at(0)).ok).toBe(true); // keys are independent
    });

    test("acquiring a lease already held renews it instead of counting twice", () => {
      const s = make();
      expect(s.acquire(lease(N1, "a", 60), 1, at(0)).ok).toBe(true);
      const again = s.acquire(lease(N1, "a", 90), 1, at(10));
      expect(again.ok && again.lease.expiresAt).toEqual(at(90));
      expect(s.list(at(10))).toHaveLength(1);
    });

    test("expired leases stop counting and disappear from listings", () => {
      const s = make();
      s.acquire(lease(N1, "a", 60), 1, at(0));
      expect(s.acquire(lease(N1, "b", 200), 1, at(59)).ok).toBe(false);
      expect(s.acquire(lease(N1, "b", 200), 1, at(60)).ok).toBe(true);
      expect(s.list(at(61)).map((l) => l.holder)).toEqual([`${N1}/b`]);
    });

    test("renew extends only the node's own unexpired leases and reports which", () => {
      const s = make();
      s.acquire(lease(N1, "a", 60), 5, at(0));
      s.acquire(lease(N2, "b", 60), 5, at(0));
      s.acquire(lease(N1, "c", 10), 5, at(0));
      const refs = [`${N1}/a`, `${N2}/b`, `${N1}/c`, `${N1}/gone`].map((holder) => ({ key: "connection/alice", holder }));
      expect(s.renew(N1, refs, at(120), at(20))).toEqual([`${N1}/a`]);
      expect(s.list(at(100)).map((l) => l.holder)).toEqual([`${N1}/a`]);
    });

    test("release drops one lease; releaseNode drops every lease of a node", () => {
      const s = make();
      for (const [n, c] of [[N1, "a"], [N1, "b"], [N2, "c"]] as const) s.acquire(lease(n, c, 60), 5, at(0));
      expect(s.release("connection/alice", `${N1}/a`)).toBe(true);
      expect(s.release("connection/alice", `${N1}/a`)).toBe(false);
      expect(s.releaseNode(N1)).toBe(1);
      expect(s.list(at(1)).map((l) => l.node)).toEqual([N2]);
      expect(s.list(at(1), "connection/bob")).toEqual([]);
    });
  });
}
