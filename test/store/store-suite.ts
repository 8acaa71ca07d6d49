// The Store contract (src/auth/store.ts), run against every backend: test/store/sqlite.test.ts
// and test/store/postgres.test.ts. Concurrency is real: many calls in flight at once, and
// on backends that can, several store instances (replicas) on one database.
import { describe, expect, test } from "bun:test";
import { guardLastAdmin } from "../../src/auth/admin-guard.ts";
import { applySessionEvent } from "../../src/auth/session-events.ts";
import type { Store } from "../../src/auth/store.ts";
import { parseResource } from "../../src/core/resources.ts";
import type { Lock, Resource } from "../../src/core/resource-types.ts";
import type { RecordingRecord } from "../../src/auth/recording/recording-store.ts";

export interface Backend {
  /** A store on a fresh, empty database. */
  fresh(): Promise<Store>;
  /** Another store instance on the same database (a second replica), where the backend has them. */
  peer?(of: Store): Promise<Store>;
}

const T0 = new Date("2026-01-01T00:00:00Z");
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const N1 = "11111111-1111-4111-8111-111111111111";
const N2 = "22222222-2222-4222-8222-222222222222";
const parse = (o: Record<string, unknown>) => parseResource(o, "test", { now: T0 });
const role = (name: string, rules: { resources: string[]; verbs: string[] }[] = []): Resource => parse({ kind: "role", name, allow: { rules } });
const ADMIN_RULES = [{ resources: ["role"], verbs: ["update"] }];
const user = (name: string, roles: string[]): Resource => parse({ kind: "user", name, roles });
const lockName = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
const lock = (name: string, u: string): Lock => ({ ...(parse({ kind: "lock", name, target: { user: u } }) as Lock), createdBy: "test", createdAt: T0 });

export function storeSuite(name: string, backend: Backend): void {
  /** Every instance the test used: the store and its peers. */
  const withStores = async (fn: (s: Store, replicas: Store[]) => Promise<void>) => {
    const s = await backend.fresh();
    const replicas = [s];
    if (backend.peer) replicas.push(await backend.peer(s), await backend.peer(s));
    try {
      await fn(s, replicas);
    } finally {
      for (const r of replicas.reverse()) await r.close();
    }
  };

  describe(`${name} store: resources and the change feed`, () => {
    test("put, get, list, delete; each write is the next revision", () => withStores(async (s) => {
      expect(await s.revision()).toBe(0);
      expect(await s.putResource(role("b"))).toBe(1);
      expect(await s.putResource(role("a"))).toBe(2);
      expect(await s.putResource(lock(lockName(1), "alice"))).toBe(3);
      expect((await s.getResource("role", "a"))?.name).toBe("a");
      expect(await s.getResource("role", "missing")).toBeUndefined();
      expect((await s.listResources("role")).map((r) => r.name)).toEqual(["a", "b"]);
      expect(await s.deleteResource("role", "b")).toBe(4);
      expect(await s.deleteResource("role", "b")).toBeUndefined();
      expect(await s.revision()).toBe(4);
      const changes = (await s.changesSince(1))!;
      expect(changes.map((c) => [c.rev, c.op, c.kind, c.name])).toEqual([[2, "put", "role", "a"], [3, "put", "lock", lockName(1)], [4, "delete", "role", "b"]]);
      expect(changes[1]!.resource).toMatchObject({ kind: "lock", name: lockName(1), target: { user: "alice" } });
      expect(await s.changesSince(4)).toEqual([]);
      expect(await s.changesSince(99)).toBeUndefined(); // a revision from another store: start over
      const snap = await s.feedSnapshot(["role", "lock"]);
      expect(snap.rev).toBe(4);
      expect(snap.resources.map((r) => `${r.kind}/${r.name}`)).toEqual(["role/a", `lock/${lockName(1)}`]);
    }));

    test("history hashes: the same changes give the same hash, a diverged history differs at the same revision", async () => {
      // One history, then (on a fresh database) another that shares its first two changes.
      const run = async (lockUser: string, lockN: number) => {
        const st = await backend.fresh();
        try {
          expect(await st.historyHash(0)).toBe("");
          await st.putResource(role("ops"));
          await st.putResource(user("alice", ["ops"]));
          await st.putResource(lock(lockName(lockN), lockUser));
          const [c3] = (await st.changesSince(2))!;
          expect(c3!.hash).toBe((await st.historyHash(3))!);
          expect(await st.historyHash(99)).toBeUndefined();
          return { h2: await st.historyHash(2), h3: await st.historyHash(3) };
        } finally {
          await st.close();
        }
      };
      const first = await run("carol", 1);
      const restored = await run("bob", 2); // a restored copy that made other changes
      expect(restored.h2).toBe(first.h2!);
      expect(restored.h3).not.toBe(first.h3!);
    });

    test("concurrent writers: readers see the feed gap-free and in commit order", () => withStores(async (s, replicas) => {
      const WRITES = 120;
      let done = false;
      const seen: number[] = [];
      const reader = (async () => {
        let last = 0;
        while (!done || last < WRITES) {
          const batch = (await s.changesSince(last))!;
          // Every batch starts right after what we have: never N+1 before N, never a skip.
          batch.forEach((c, i) => expect(c.rev).toBe(last + 1 + i));
          for (const c of batch) seen.push(c.rev);
          last = batch.at(-1)?.rev ?? last;
          if (batch.length === 0) await Bun.sleep(1); // a poll loop's pause between reads, not a synchronisation
        }
      })();
      const writers = Array.from({ length: WRITES }, (_, i) => replicas[i % replicas.length]!.putResource(lock(lockName(i), `u${i}`)));
      const revs = await Promise.all(writers);
      done = true;
      await reader;
      expect(new Set(revs).size).toBe(WRITES);
      expect(seen).toEqual(Array.from({ length: WRITES }, (_, i) => i + 1));
      expect(await s.revision()).toBe(WRITES);
    }));

    test("atomically: all or nothing, and a nested call joins the outer transaction", () => withStores(async (s) => {
      await expect(s.atomically(async (tx) => {
        await tx.putResource(role("kept-out"));
        await tx.atomically(async (inner) => inner.appendEvent({ uid: "e-rolled", event: "x", code: "X", time: T0.toISOString() }));
        throw new Error("boom");
      })).rejects.toThrow("boom");
      expect(await s.getResource("role", "kept-out")).toBeUndefined();
      expect(await s.listEvents({ limit: 10 })).toEqual([]);
      expect(await s.revision()).toBe(0);
      await s.atomically(async (tx) => {
        await tx.putResource(role("in"));
        await tx.appendEvent({ uid: "e-in", event: "x", code: "X", time: T0.toISOString() });
      });
      expect((await s.getResource("role", "in"))?.name).toBe("in");
      expect((await s.listEvents({ limit: 10 })).map((e) => e.uid)).toEqual(["e-in"]);
    }));

    test("the last-admin guard holds when two removals race (on every replica)", () => withStores(async (s, replicas) => {
      await s.putResource(role("admin", ADMIN_RULES));
      await s.putResource(user("alice", ["admin"]));
      await s.putResource(user("bob", ["admin"]));
      const remove = (store: Store, name: string) => store.atomically(async (tx) => {
        await tx.lock("admins");
        await guardLastAdmin(tx, { delete: { kind: "user", name } });
        return tx.deleteResource("user", name);
      });
      const results = await Promise.allSettled([remove(replicas[0]!, "alice"), remove(replicas.at(-1)!, "bob")]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      expect(String((results.find((r) => r.status === "rejected") as PromiseRejectedResult).reason)).toMatch(/no user could update roles/);
      expect(await s.listResources("user")).toHaveLength(1);
    }));
  });

  describe(`${name} store: tokens, nodes, events`, () => {
    test("a single-use token is redeemed exactly once under concurrent redemption", () => withStores(async (s, replicas) => {
      await s.addToken({ hash: "h1", expiresAt: at(600), reusable: false, createdBy: "admin", createdAt: at(0) });
      await s.addToken({ hash: "h2", expiresAt: at(600), reusable: true, createdBy: "admin", createdAt: at(1) });
      await s.addToken({ hash: "h3", expiresAt: at(10), reusable: false, createdBy: "admin", createdAt: at(2) });
      const uses = await Promise.all(Array.from({ length: 24 }, (_, i) => replicas[i % replicas.length]!.useToken("h1", at(5))));
      expect(uses.filter((u) => u.ok)).toHaveLength(1);
      expect(uses.filter((u) => !u.ok && u.reason === "used")).toHaveLength(23);
      const reusable = await Promise.all(Array.from({ length: 6 }, () => s.useToken("h2", at(5))));
      expect(reusable.every((u) => u.ok)).toBe(true);
      expect(await s.useToken("h3", at(11))).toEqual({ ok: false, reason: "expired" });
      expect(await s.useToken("nope", at(5))).toEqual({ ok: false, reason: "unknown" });
      expect((await s.listTokens(at(5))).map((t) => t.hash)).toEqual(["h2", "h3"]);
      expect((await s.listTokens(at(11)))[0]).toEqual({ hash: "h2", expiresAt: at(600), reusable: true, createdBy: "admin", createdAt: at(1) });
    }));

    test("a request nonce is used once, on every replica, until it expires", () => withStores(async (s, replicas) => {
      const uses = await Promise.all(Array.from({ length: 12 }, (_, i) => replicas[i % replicas.length]!.useNonce("n1", at(60), at(0))));
      expect(uses.filter(Boolean)).toHaveLength(1);
      expect(await s.useNonce("n2", at(60), at(0))).toBe(true);
      expect(await s.useNonce("n1", at(120), at(59))).toBe(false);
      expect(await s.useNonce("n1", at(200), at(61))).toBe(true); // expired: it proves nothing any more
    }));

    test("nodes: register, heartbeat (touch keeps what it is not given), list", () => withStores(async (s) => {
      const node = { serverId: N2, hostname: "b", addr: "10.0.0.2:3022", labels: { env: "prod" }, identityKey: "ssh-ed25519 AAAA", hostKey: "ssh-ed25519 BBBB", joinedAt: at(0), lastSeen: at(0), version: "1" };
      await s.upsertNode(node);
      await s.upsertNode({ ...node, serverId: N1, hostname: "a" });
      await s.touchNode(N2, at(30), { addr: "10.0.0.9:3022" });
      await s.touchNode("33333333-3333-4333-8333-333333333333", at(30), {}); // unknown: nothing happens
      expect(await s.getNode(N2)).toEqual({ ...node, addr: "10.0.0.9:3022", lastSeen: at(30) });
      expect((await s.listNodes()).map((n) => n.hostname)).toEqual(["a", "b"]);
      expect(await s.getNode("33333333-3333-4333-8333-333333333333")).toBeUndefined();
    }));

    test("events are stored once by uid, even when delivered concurrently; newest first with paging", () => withStores(async (s, replicas) => {
      const e = (uid: string, sec: number, event = "session.start", user = "alice") => ({ uid, event, code: "X", time: at(sec).toISOString(), user, n: sec });
      const dup = await Promise.all(Array.from({ length: 12 }, (_, i) => replicas[i % replicas.length]!.appendEvent(e("same", 1))));
      expect(dup.filter(Boolean)).toHaveLength(1);
      for (let i = 2; i <= 6; i++) await s.appendEvent(e(`e${i}`, i, i % 2 ? "session.end" : "session.start", i < 4 ? "bob" : "alice"));
      await s.appendEvent(e("late", 0)); // an agent cut off for a while delivers old events late
      const all = await s.listEvents({ limit: 100 });
      expect(all.map((x) => x.uid)).toEqual(["e6", "e5", "e4", "e3", "e2", "same", "late"]);
      expect(all[0]).toMatchObject({ uid: "e6", n: 6, user: "alice" });
      expect((await s.listEvents({ limit: 100, type: "session.end" })).map((x) => x.uid)).toEqual(["e5", "e3"]);
      expect((await s.listEvents({ limit: 100, user: "bob" })).map((x) => x.uid)).toEqual(["e3", "e2"]);
      expect((await s.listEvents({ limit: 100, since: at(5) })).map((x) => x.uid)).toEqual(["e6", "e5"]);
      const page1 = await s.listEvents({ limit: 3 });
      const page2 = await s.listEvents({ limit: 3, before: page1.at(-1)!.seq });
      const page3 = await s.listEvents({ limit: 3, before: page2.at(-1)!.seq });
      expect([...page1, ...page2, ...page3].map((x) => x.uid)).toEqual(all.map((x) => x.uid));
    }));
  });

  describe(`${name} store: semaphores`, () => {
    const lease = (node: string, conn: string, expiresS: number, key = "connection/alice") => ({ key, holder: `${node}/${conn}`, node, expiresAt: at(expiresS) });

    test("admits up to max holders, then refuses with the count; keys are independent", () => withStores(async (s) => {
      const m = s.semaphores;
      expect((await m.acquire(lease(N1, "a", 60), 2, at(0))).ok).toBe(true);
      expect((await m.acquire(lease(N2, "b", 60), 2, at(0))).ok).toBe(true);
      expect(await m.acquire(lease(N1, "c", 60), 2, at(0))).toEqual({ ok: false, holders: 2 });
      expect((await m.acquire(lease(N1, "c", 60, "connection/bob"), 2, at(0))).ok).toBe(true);
    }));

    test("concurrent acquires never admit more than max (count-then-insert is atomic)", () => withStores(async (s, replicas) => {
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) =>
        replicas[i % replicas.length]!.semaphores.acquire(lease(i % 2 ? N1 : N2, `c${i}`, 60), 3, at(0))));
      expect(results.filter((r) => r.ok)).toHaveLength(3);
      expect(await s.semaphores.list(at(1), "connection/alice")).toHaveLength(3);
    }));

    test("acquiring a lease already held renews it instead of counting twice", () => withStores(async (s) => {
      const m = s.semaphores;
      expect((await m.acquire(lease(N1, "a", 60), 1, at(0))).ok).toBe(true);
      const again = await m.acquire(lease(N1, "a", 90), 1, at(10));
      expect(again.ok && again.lease.expiresAt).toEqual(at(90));
      expect(await m.list(at(10))).toHaveLength(1);
    }));

    test("expired leases stop counting and disappear from listings", () => withStores(async (s) => {
      const m = s.semaphores;
      await m.acquire(lease(N1, "a", 60), 1, at(0));
      expect((await m.acquire(lease(N1, "b", 200), 1, at(59))).ok).toBe(false);
      expect((await m.acquire(lease(N1, "b", 200), 1, at(60))).ok).toBe(true);
      expect((await m.list(at(61))).map((l) => l.holder)).toEqual([`${N1}/b`]);
    }));

    test("renew extends only the node's own unexpired leases; release and releaseNode", () => withStores(async (s) => {
      const m = s.semaphores;
      await m.acquire(lease(N1, "a", 60), 5, at(0));
      await m.acquire(lease(N2, "b", 60), 5, at(0));
      await m.acquire(lease(N1, "c", 10), 5, at(0));
      const refs = [`${N1}/a`, `${N2}/b`, `${N1}/c`, `${N1}/gone`].map((holder) => ({ key: "connection/alice", holder }));
      expect(await m.renew(N1, refs, at(120), at(20))).toEqual([`${N1}/a`]);
      expect((await m.list(at(100))).map((l) => l.holder)).toEqual([`${N1}/a`]);
      await m.acquire(lease(N1, "d", 200), 5, at(100));
      await m.acquire(lease(N2, "e", 200), 5, at(100));
      expect(await m.release("connection/alice", `${N1}/a`)).toBe(true);
      expect(await m.release("connection/alice", `${N1}/a`)).toBe(false);
      expect(await m.releaseNode(N1)).toBe(1);
      expect((await m.list(at(101))).map((l) => l.node)).toEqual([N2]);
      expect(await m.list(at(101), "connection/bob")).toEqual([]);
    }));
  });

  describe(`${name} store: session inventory`, () => {
    let n = 0;
    const ev = (event: string, fields: Record<string, unknown>, time = "2026-01-01T00:00:00.000Z") =>
      ({ uid: `u${++n}`, event, code: "X", time, server_id: N1, user: "alice", login: "root", ...fields });

    test("start then end: completed with both times; replays change nothing", () => withStores(async (s) => {
      const start = ev("session.start", { sid: "s1", session_kind: "shell", recorded: true });
      const end = ev("session.end", { sid: "s1" }, "2026-01-01T00:01:00.000Z");
      for (const e of [start, end, start, end]) await applySessionEvent(s.sessions, e);
      expect(await s.sessions.list({ limit: 10 })).toEqual([{
        id: "s1", state: "completed", node: N1, user: "alice", login: "root", kind: "shell",
        start: new Date(start.time), end: new Date(end.time), recorded: true,
      }]);
    }));

    test("an end that arrives first is kept when the start follows", () => withStores(async (s) => {
      await applySessionEvent(s.sessions, ev("session.end", { sid: "s2" }, "2026-01-01T00:05:00.000Z"));
      await applySessionEvent(s.sessions, ev("session.start", { sid: "s2", session_kind: "exec" }));
      expect((await s.sessions.list({ limit: 1 }))[0]).toMatchObject({ state: "completed", kind: "exec", end: new Date("2026-01-01T00:05:00.000Z") });
    }));

    test("refusals are rows of their own, counted by kind", () => withStores(async (s) => {
      const limit = ev("sessctl.limit", { max: 2, sessctl_kind: "connection", login: undefined });
      await applySessionEvent(s.sessions, limit);
      await applySessionEvent(s.sessions, limit);
      await applySessionEvent(s.sessions, ev("session.rejected", { reason: 'lock targeting User:"alice" is in force', reason_kind: "lock" }));
      const rows = await s.sessions.list({ states: ["rejected"], limit: 10 });
      expect(rows.map((r) => r.reason).sort()).toEqual(['lock targeting User:"alice" is in force', 'too many concurrent ssh connections for user "alice" (max=2)']);
      expect((await s.sessions.counts()).rejections).toEqual({ lock: 1, max_connections: 1 });
    }));

    test("a node restart marks its open sessions lost; a late end completes them; notes and recorded flag", () => withStores(async (s) => {
      await applySessionEvent(s.sessions, ev("session.start", { sid: "s3" }));
      await applySessionEvent(s.sessions, ev("session.start", { sid: "s4" }));
      await s.sessions.noteReason("s3", "cut by a lock");
      await s.sessions.setRecorded("s3", true);
      expect(await s.sessions.markNodeLost(N1, new Date("2026-01-01T01:00:00Z"), "restarted")).toBe(2);
      await applySessionEvent(s.sessions, ev("session.end", { sid: "s4" }, "2026-01-01T00:30:00.000Z"));
      const byId = Object.fromEntries((await s.sessions.list({ limit: 10 })).map((r) => [r.id, r]));
      expect(byId.s3).toMatchObject({ state: "lost", reason: "restarted", recorded: true });
      expect(byId.s4!.state).toBe("completed");
      expect(byId.s4!.reason).toBeUndefined();
      expect((await s.sessions.counts()).states).toEqual({ lost: 1, completed: 1 });
      expect(await s.sessions.nodeOf("s3")).toBe(N1);
      expect(await s.sessions.nodeOf("nope")).toBeUndefined();
    }));

    test("filters: state, user, node, login, since", () => withStores(async (s) => {
      await applySessionEvent(s.sessions, ev("session.start", { sid: "a", user: "bob" }, "2026-01-01T00:00:00.000Z"));
      await applySessionEvent(s.sessions, ev("session.start", { sid: "b", login: "ubuntu" }, "2026-01-02T00:00:00.000Z"));
      expect((await s.sessions.list({ user: "bob", limit: 10 })).map((r) => r.id)).toEqual(["a"]);
      expect((await s.sessions.list({ login: "ubuntu", limit: 10 })).map((r) => r.id)).toEqual(["b"]);
      expect((await s.sessions.list({ since: new Date("2026-01-01T12:00:00Z"), limit: 10 })).map((r) => r.id)).toEqual(["b"]);
      expect(await s.sessions.list({ node: "other", limit: 10 })).toEqual([]);
      expect((await s.sessions.list({ until: new Date("2026-01-01T12:00:00Z"), limit: 10 })).map((r) => r.id)).toEqual(["a"]);
      expect((await s.sessions.list({ after: { start: new Date("2026-01-02T00:00:00.000Z"), id: "b" }, limit: 10 })).map((r) => r.id)).toEqual(["a"]);
      expect(await s.sessions.list({ states: ["completed"], limit: 10 })).toEqual([]);
    }));

    test("keyset paging (the console's): every row once, newest first, ties on start broken by id", () => withStores(async (s) => {
      // 23 sessions over 5 start times: pages of 4 must cross ties without losing or repeating a row.
      for (let i = 0; i < 23; i++) {
        await applySessionEvent(s.sessions, ev("session.start", { sid: `s${String(i).padStart(2, "0")}` }, `2026-01-0${1 + (i % 5)}T00:00:00.000Z`));
      }
      const all = await s.sessions.list({ limit: 100 });
      const paged: string[] = [];
      let after: { start: Date; id: string } | undefined;
      for (;;) {
        const page = await s.sessions.list({ limit: 4, ...(after ? { after } : {}) });
        paged.push(...page.map((r) => r.id));
        if (page.length < 4) break;
        after = { start: page.at(-1)!.start, id: page.at(-1)!.id };
      }
      expect(paged).toEqual(all.map((r) => r.id));
      expect(new Set(paged).size).toBe(23);
    }));
  });

  describe(`${name} store: web console sign-in links and browser sessions`, () => {
    test("a sign-in link is redeemed exactly once under concurrent redemption on every replica", () => withStores(async (s, replicas) => {
      const c = s.console;
      await c.addSigninLink({ hash: "l1", user: "alice", certValidBefore: at(3600), expiresAt: at(60) }, at(0));
      await c.addSigninLink({ hash: "l2", user: "bob", expiresAt: at(60) }, at(0));
      const uses = await Promise.all(Array.from({ length: 24 }, (_, i) => replicas[i % replicas.length]!.console.redeemSigninLink("l1", at(5))));
      expect(uses.filter((u) => u.ok)).toEqual([{ ok: true, user: "alice", certValidBefore: at(3600) }]);
      expect(uses.filter((u) => !u.ok && u.reason === "unknown")).toHaveLength(23);
      expect(await replicas.at(-1)!.console.redeemSigninLink("l2", at(59))).toEqual({ ok: true, user: "bob" });
      expect(await c.redeemSigninLink("nope", at(5))).toEqual({ ok: false, reason: "unknown" });
    }));

    test("an expired link is refused as expired, and used up", () => withStores(async (s) => {
      await s.console.addSigninLink({ hash: "l3", user: "alice", expiresAt: at(60) }, at(0));
      expect(await s.console.redeemSigninLink("l3", at(61))).toEqual({ ok: false, reason: "expired" });
      expect(await s.console.redeemSigninLink("l3", at(30))).toEqual({ ok: false, reason: "unknown" });
      // Links expired long ago are pruned when new ones are made.
      await s.console.addSigninLink({ hash: "old", user: "alice", expiresAt: at(60) }, at(0));
      await s.console.addSigninLink({ hash: "new", user: "alice", expiresAt: at(2 * 3600 + 60) }, at(2 * 3600));
      expect(await s.console.redeemSigninLink("old", at(2 * 3600))).toEqual({ ok: false, reason: "unknown" });
    }));

    test("a browser session is known to every replica until it expires or ends; a person's sessions end together", () => withStores(async (s, replicas) => {
      const other = replicas.at(-1)!.console;
      await s.console.startBrowserSession({ hash: "b1", user: "alice", expiresAt: at(600), createdAt: at(0) });
      await other.startBrowserSession({ hash: "b2", user: "alice", expiresAt: at(600), createdAt: at(1) });
      await s.console.startBrowserSession({ hash: "b3", user: "carol", expiresAt: at(100), createdAt: at(2) });
      expect(await other.getBrowserSession("b1", at(10))).toEqual({ hash: "b1", user: "alice", expiresAt: at(600), createdAt: at(0) });
      expect((await s.console.getBrowserSession("b2", at(10)))?.user).toBe("alice");
      expect(await s.console.getBrowserSession("nope", at(10))).toBeUndefined();
      // Expired: gone for every replica, and removed.
      expect(await other.getBrowserSession("b3", at(100))).toBeUndefined();
      expect(await s.console.getBrowserSession("b3", at(50))).toBeUndefined();
      // Signed out through one replica: gone on the others.
      expect(await other.endBrowserSession("b1")).toBe(true);
      expect(await s.console.endBrowserSession("b1")).toBe(false);
      expect(await s.console.getBrowserSession("b1", at(10))).toBeUndefined();
      await s.console.startBrowserSession({ hash: "b4", user: "alice", expiresAt: at(600), createdAt: at(3) });
      await s.console.startBrowserSession({ hash: "b5", user: "dave", expiresAt: at(600), createdAt: at(3) });
      expect(await other.endBrowserSessionsOf("alice")).toBe(2);
      expect(await s.console.getBrowserSession("b2", at(10))).toBeUndefined();
      expect(await s.console.getBrowserSession("b4", at(10))).toBeUndefined();
      expect((await s.console.getBrowserSession("b5", at(10)))?.user).toBe("dave");
      await s.console.startBrowserSession({ hash: "b6", user: "erin", expiresAt: at(20), createdAt: at(3) });
      expect(await s.console.pruneConsole(at(30))).toBe(1);
      expect((await other.getBrowserSession("b5", at(30)))?.user).toBe("dave");
    }));
  });

  describe(`${name} store: session commands for another replica`, () => {
    const cmd = (id: string, node: string, expiresS = 10) =>
      ({ id, node, type: "terminate" as const, sid: `sid-${id}`, reason: "session terminated by admin", createdAt: at(0), expiresAt: at(expiresS) });

    test("a queued command is claimed by one replica only, for the nodes it holds, before it expires", () => withStores(async (s, replicas) => {
      await s.commands.addCommand(cmd("c1", N1));
      await s.commands.addCommand(cmd("c2", N2));
      await s.commands.addCommand(cmd("c3", N1, 1));
      expect(await s.commands.commandState("c1")).toEqual({ state: "pending" });
      expect(await s.commands.claimCommands([], "r0", at(2))).toEqual([]);
      const claims = await Promise.all(Array.from({ length: 12 }, (_, i) => replicas[i % replicas.length]!.commands.claimCommands([N1, "other"], `r${i}`, at(2))));
      const won = claims.flat();
      expect(won).toEqual([cmd("c1", N1)]); // c3 expired at 1 s; c2 is for a node not held
      const winner = claims.findIndex((c) => c.length === 1);
      expect(await s.commands.commandState("c1")).toEqual({ state: "claimed", claimedBy: `r${winner}` });
      expect(await s.commands.commandState("c2")).toEqual({ state: "pending" });
      expect(await s.commands.commandState("nope")).toBeUndefined();
    }));

    test("withdrawn and claimed race: exactly one wins, and the asker learns which", () => withStores(async (s, replicas) => {
      const other = replicas.at(-1)!.commands;
      for (let i = 0; i < 10; i++) {
        await s.commands.addCommand(cmd(`w${i}`, N1));
        const [withdrawn, claimed] = await Promise.all([s.commands.withdrawCommand(`w${i}`), other.claimCommands([N1], "holder", at(1))]);
        // Either the claim came first (the withdrawal finds it claimed) or the withdrawal did (nothing to claim).
        if (withdrawn === "claimed") expect(claimed.map((c) => c.id)).toEqual([`w${i}`]);
        else {
          expect(withdrawn).toBe("withdrawn");
          expect(claimed).toEqual([]);
        }
        expect(await other.claimCommands([N1], "late", at(1))).toEqual([]);
      }
      expect(await s.commands.withdrawCommand("nope")).toBeUndefined();
    }));

    test("queueing a command wakes the other replicas' listeners", () => withStores(async (s, replicas) => {
      const wakes = replicas.map(() => 0);
      const stops = await Promise.all(replicas.map((r, i) => r.commands.onCommandWrite(() => void wakes[i]!++)));
      try {
        const before = [...wakes];
        await s.commands.addCommand(cmd("n1", N1));
        // A backend with one process (SQLite) has nobody else to wake; one with replicas wakes each.
        if (replicas.length > 1) await waitUntil(() => replicas.every((_, i) => wakes[i]! > before[i]!));
        expect((await replicas.at(-1)!.commands.claimCommands([N1], "r", at(1))).map((c) => c.id)).toEqual(["n1"]);
      } finally {
        for (const stop of stops) await stop();
      }
    }));
  });

  describe(`${name} store: recording upload bookkeeping`, () => {
    const rec = (sessionId: string, serverId: string, sec: number, extra: Partial<RecordingRecord> = {}): RecordingRecord => ({
      sessionId, serverId, user: "alice", login: "root", kind: "shell", mode: "node", startedAt: at(sec), state: "open", interrupted: false,
      key: `${sessionId}.cast.gz`, nextPart: 1, storageParts: [], staged: [], bytes: 0, events: 0, durationMs: 0, updatedAt: at(sec), ...extra,
    });

    test("put, get, list newest first with filters, open uploads, delete", () => withStores(async (s) => {
      const r = s.recordings;
      await r.putRecording(rec("s1", N1, 1));
      await r.putRecording(rec("s2", N2, 2, { command: "ls" }));
      await r.putRecording(rec("s3", N1, 3, { state: "complete", completedAt: at(9), uploadId: undefined }));
      const updated = rec("s1", N1, 1, { nextPart: 3, storageParts: [{ n: 1, etag: "e1", size: 5 << 20 }], staged: [{ part: 2, key: "k2", size: 10 }], bytes: 99, uploadId: "up" });
      await r.putRecording(updated);
      expect(await r.getRecording("s1")).toEqual(updated);
      expect(await r.getRecording("s2")).toEqual(rec("s2", N2, 2, { command: "ls" }));
      expect((await r.getRecording("s3"))?.completedAt).toEqual(at(9));
      expect(await r.getRecording("nope")).toBeUndefined();
      expect((await r.listRecordings({ limit: 10 })).map((x) => x.sessionId)).toEqual(["s3", "s2", "s1"]);
      expect((await r.listRecordings({ limit: 10, serverId: N1, state: "open" })).map((x) => x.sessionId)).toEqual(["s1"]);
      expect((await r.listRecordings({ limit: 1 })).map((x) => x.sessionId)).toEqual(["s3"]);
      expect((await r.openRecordings()).map((x) => x.sessionId).sort()).toEqual(["s1", "s2"]);
      expect((await r.openRecordings(N2)).map((x) => x.sessionId)).toEqual(["s2"]);
      const use = await r.usage(at(2));
      expect(use.total).toEqual({ bytes: 99, recordings: 3 });
      expect(use.days).toEqual([{ day: "2026-01-01", bytes: 0, recordings: 2 }]);
      expect(use.nodes.map((n) => [n.serverId, n.recordings]).sort()).toEqual([[N1, 1], [N2, 1]]);
      expect(await r.deleteRecording("s2")).toBe(true);
      expect(await r.deleteRecording("s2")).toBe(false);
    }));

    test("a versioned write lands only on the version it read, across instances; the first open wins", () => withStores(async (s, replicas) => {
      const [a, b] = [replicas[0]!.recordings, replicas.at(-1)!.recordings];
      // Two replicas open the same upload at once: exactly one creates it.
      const opened = await Promise.all([a.putRecording(rec("v1", N1, 1, { version: 1 }), 0), b.putRecording(rec("v1", N1, 1, { version: 1 }), 0)]);
      expect(opened.filter(Boolean)).toHaveLength(1);
      // Both read version 1; b stores part 1 (version 2), then a's late write of the same read is refused.
      expect(await b.putRecording(rec("v1", N1, 1, { nextPart: 2, bytes: 10, version: 2 }), 1)).toBe(true);
      expect(await a.putRecording(rec("v1", N1, 1, { nextPart: 2, bytes: 7, version: 2 }), 1)).toBe(false);
      expect(await s.recordings.getRecording("v1")).toMatchObject({ nextPart: 2, bytes: 10, version: 2 });
      // A record written before versions (none stored) counts as version 0.
      await a.putRecording(rec("old", N1, 2));
      expect(await b.putRecording(rec("old", N1, 2, { nextPart: 2, version: 1 }), 1)).toBe(false);
      expect(await b.putRecording(rec("old", N1, 2, { nextPart: 2, version: 1 }), 0)).toBe(true);
      // Racing writers of one version: exactly one lands.
      const raced = await Promise.all(replicas.map((x, i) => x.recordings.putRecording(rec("old", N1, 2, { nextPart: 3, bytes: i, version: 2 }), 1)));
      expect(raced.filter(Boolean)).toHaveLength(1);
      expect(await b.putRecording(rec("none", N1, 3, { version: 5 }), 4)).toBe(false);
      expect(await s.recordings.getRecording("none")).toBeUndefined();
    }));
  });
}

/** Waits for a condition (a wake-up delivered by the database) for up to 10 s. */
async function waitUntil(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the condition");
    await Bun.sleep(10);
  }
}
