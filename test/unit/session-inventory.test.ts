// The SessionInventory contract and the event mapping that feeds it: every update is
// idempotent (events arrive at least once) and order-tolerant.
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { applySessionEvent } from "../../src/auth/session-events.ts";
import type { SessionInventory } from "../../src/auth/session-inventory.ts";
import { SqliteSessionInventory } from "../../src/auth/sqlite-session-inventory.ts";
import { asRefusalKind, REFUSAL_KINDS, type RefusalKind } from "../../src/core/refusal-kind.ts";

const IMPLEMENTATIONS: [string, () => SessionInventory][] = [
  ["sqlite", () => new SqliteSessionInventory(new Database(":memory:", { strict: true }))],
];
const NODE = "11111111-1111-4111-8111-111111111111";
let n = 0;
const ev = (event: string, fields: Record<string, unknown>, time = "2026-01-01T00:00:00.000Z") =>
  ({ uid: `u${++n}`, event, code: "X", time, server_id: NODE, user: "alice", login: "root", ...fields });

for (const [name, make] of IMPLEMENTATIONS) {
  describe(`${name} session inventory`, () => {
    test("start then end: completed with both times; replays change nothing", () => {
      const inv = make();
      const start = ev("session.start", { sid: "s1", session_kind: "shell", recorded: true });
      const end = ev("session.end", { sid: "s1" }, "2026-01-01T00:01:00.000Z");
      for (const e of [start, end, start, end]) applySessionEvent(inv, e);
      expect(inv.list({ limit: 10 })).toEqual([{
        id: "s1", state: "completed", node: NODE, user: "alice", login: "root", kind: "shell",
        start: new Date(start.time), end: new Date(end.time), recorded: true,
      }]);
    });

    test("an end that arrives first is kept when the start follows", () => {
      const inv = make();
      applySessionEvent(inv, ev("session.end", { sid: "s2" }, "2026-01-01T00:05:00.000Z"));
      applySessionEvent(inv, ev("session.start", { sid: "s2", session_kind: "exec" }));
      expect(inv.list({ limit: 1 })[0]).toMatchObject({ state: "completed", kind: "exec", end: new Date("2026-01-01T00:05:00.000Z") });
    });

    test("refusals are rows of their own; sessctl.limit gets its message back", () => {
      const inv = make();
      const limit = ev("sessctl.limit", { max: 2, sessctl_kind: "connection", login: undefined });
      applySessionEvent(inv, limit);
      applySessionEvent(inv, limit);
      applySessionEvent(inv, ev("session.rejected", { reason: 'lock targeting User:"alice" is in force', reason_kind: "lock" }));
      const rows = inv.list({ states: ["rejected"], limit: 10 });
      expect(rows.map((r) => r.reason).sort()).toEqual(['lock targeting User:"alice" is in force', 'too many concurrent ssh connections for user "alice" (max=2)']);
      expect(inv.counts().rejections).toEqual({ lock: 1, max_connections: 1 });
    });

    test("a node restart marks its open sessions lost; a late end completes them", () => {
      const inv = make();
      applySessionEvent(inv, ev("session.start", { sid: "s3" }));
      applySessionEvent(inv, ev("session.start", { sid: "s4" }));
      expect(inv.markNodeLost(NODE, new Date("2026-01-01T01:00:00Z"), "restarted")).toBe(2);
      applySessionEvent(inv, ev("session.end", { sid: "s4" }, "2026-01-01T00:30:00.000Z"));
      const byId = Object.fromEntries(inv.list({ limit: 10 }).map((r) => [r.id, r]));
      expect(byId.s3).toMatchObject({ state: "lost", reason: "restarted" });
      expect(byId.s4!.state).toBe("completed");
      expect(byId.s4!.reason).toBeUndefined();
    });

    test("filters: state, user, node, login, since", () => {
      const inv = make();
      applySessionEvent(inv, ev("session.start", { sid: "a", user: "bob" }, "2026-01-01T00:00:00.000Z"));
      applySessionEvent(inv, ev("session.start", { sid: "b", login: "ubuntu" }, "2026-01-02T00:00:00.000Z"));
      expect(inv.list({ user: "bob", limit: 10 }).map((r) => r.id)).toEqual(["a"]);
      expect(inv.list({ login: "ubuntu", limit: 10 }).map((r) => r.id)).toEqual(["b"]);
      expect(inv.list({ since: new Date("2026-01-01T12:00:00Z"), limit: 10 }).map((r) => r.id)).toEqual(["b"]);
      expect(inv.list({ node: "other", limit: 10 })).toEqual([]);
      expect(inv.list({ states: ["completed"], limit: 10 })).toEqual([]);
    });
  });
}

describe("refusal kinds", () => {
  test("an agent's kind is kept; one we do not know, or none, is other — never read from the message", () => {
    for (const k of REFUSAL_KINDS) expect(asRefusalKind(k)).toBe(k);
    expect(asRefusalKind("made-up")).toBe("other");
    expect(asRefusalKind(undefined)).toBe("other");
    const kinds: RefusalKind[] = ["source_address", "unknown_user"];
    expect(kinds.every((k) => REFUSAL_KINDS.includes(k))).toBe(true);
  });
});
