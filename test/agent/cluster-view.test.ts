// The agent's cluster view on a real SQLite file: a malformed change is refused
// whole, the cache survives a reopen, and last_synced_at is the stored time.
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClusterView } from "../../src/agent/cluster-view.ts";
import { ViewDb } from "../../src/agent/view-db.ts";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function openView(dir?: string) {
  const d = dir ?? mkdtempSync(join(tmpdir(), "view-"));
  dirs.push(d);
  const db = new ViewDb(join(d, "agent.db"));
  return { dir: d, db, view: new ClusterView(db) };
}

const CA = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ca";
const lock = (name: string, user: string) => ({ kind: "lock", name, target: { user } });

test("a batch with one malformed resource changes nothing", () => {
  const { view } = openView();
  const t0 = new Date("2026-01-01T00:00:00Z");
  view.applySnapshot(5, "", [lock("11111111-1111-4111-8111-111111111111", "alice")], [CA], t0);
  expect(() => view.applyChanges([
    { rev: 6, op: "put", kind: "lock", name: "22222222-2222-4222-8222-222222222222", resource: lock("22222222-2222-4222-8222-222222222222", "bob") },
    { rev: 7, op: "put", kind: "lock", name: "bad", resource: { kind: "lock", name: "33333333-3333-4333-8333-333333333333", target: { colour: "blue" } } },
  ], undefined, new Date("2026-01-01T00:01:00Z"))).toThrow(/colour/);
  expect(view.rev).toBe(5);
  expect(view.locks.size).toBe(1);
  expect(view.lastSyncedAt).toEqual(t0);
});

test("the cache, revision and last_synced_at survive a restart", () => {
  const first = openView();
  const t0 = new Date("2026-01-01T00:00:00Z");
  first.view.applySnapshot(9, "h9", [lock("11111111-1111-4111-8111-111111111111", "alice"), { kind: "user", name: "alice", roles: ["dev"] }], [CA], t0);
  first.view.applyChanges([{ rev: 10, op: "delete", kind: "user", name: "alice", hash: "h10" }], undefined, new Date("2026-01-01T00:00:05Z"));
  first.db.close();
  const again = openView(first.dir);
  expect(again.view.rev).toBe(10);
  expect(again.view.revHash).toBe("h10");
  expect(again.view.users.size).toBe(0);
  expect(again.view.locks.match({ user: "alice" }, t0)?.target.user).toBe("alice");
  expect(again.view.lastSyncedAt).toEqual(new Date("2026-01-01T00:00:05Z"));
  expect(again.view.userCaKeys).toHaveLength(1);
});
