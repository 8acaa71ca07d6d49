// A node may post only the event types nodes emit, about its own sessions: the rest
// are refused one by one (the batch's good events are stored; nothing jams).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import { TestCluster, type Agent } from "../helpers/cluster.ts";
import { nodeApi } from "../helpers/node-api.ts";

let c: TestCluster;
let a1: Agent;
let a2: Agent;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  a1 = await c.addAgent();
  a2 = await c.addAgent();
}, 60_000);

afterAll(() => c.close());

const ev = (event: string, fields: Record<string, unknown> = {}) => ({ uid: randomUUID(), event, code: "T0000I", time: new Date().toISOString(), ...fields });

test("lock.deleted, another node's session and another node's id are refused per event; the rest is stored", async () => {
  const theirs = randomUUID();
  const start2 = ev("session.start", { sid: theirs, user: "bob", login: "root", session_kind: "shell" });
  expect(await nodeApi(a2, c.authAddr).request("POST", "/v1/events", { events: [start2] })).toEqual({ received: 1, stored: 1 });

  const forged = ev("lock.deleted", { user: "admin", name: "x" });
  const hijackStart = ev("session.start", { sid: theirs, user: "mallory", login: "root" });
  const hijackEnd = ev("session.end", { sid: theirs, user: "bob", login: "root", exit_code: 0 });
  const otherNode = ev("session.rejected", { user: "eve", login: "root", reason: "x", server_id: a2.serverId() });
  const mine = randomUUID();
  const good = [ev("session.start", { sid: mine, user: "bob", login: "root", session_kind: "exec" }), ev("session.end", { sid: mine, user: "bob", login: "root", exit_code: 0 })];
  const r = await nodeApi(a1, c.authAddr).request<{ received: number; stored: number; refused: { uid: string; error: string }[] }>(
    "POST", "/v1/events", { events: [forged, good[0], hijackStart, hijackEnd, otherNode, good[1]] });
  expect(r.received).toBe(6);
  expect(r.stored).toBe(2);
  expect(r.refused).toEqual([
    { uid: forged.uid, error: 'nodes do not send "lock.deleted" events' },
    { uid: hijackStart.uid, error: "an event about a session on another node" },
    { uid: hijackEnd.uid, error: "an event about a session on another node" },
    { uid: otherNode.uid, error: "an event about another node" },
  ]);
  expect(JSON.parse(await c.ctlOk("events", "ls", "--type", "lock.deleted", "--format", "json"))).toEqual([]);
  const sessions = JSON.parse(await c.ctlOk("sessions", "ls", "--format", "json")) as { id: string; node: string; user: string; state: string }[];
  const theirRow = sessions.find((s) => s.id === theirs)!;
  expect([theirRow.node, theirRow.user, theirRow.state]).toEqual([a2.serverId(), "bob", "active"]);
  expect(sessions.find((s) => s.id === mine)!.state).toBe("completed");
  expect(c.auth.output()).toContain('"refused an audit event from a node"');
}, 60_000);
