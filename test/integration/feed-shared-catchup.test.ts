// Watchers resuming together at one revision (a failover's herd) share one catch-up read;
// none of them may miss a change published while they register, none gets one twice (the
// hub may read the seed or another replica's changes after a catch-up already had them).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import WebSocket from "ws";
import { formatAuthorizedKey, generateEd25519 } from "../../src/core/ssh-key.ts";
import { clientFor } from "../../src/platform/identity-selection.ts";
import { ApiClient } from "../../src/platform/api-client.ts";
import { readIdentity } from "../../src/platform/identity-file.ts";
import { TestCluster } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/process.ts";

const FEEDS = 100;
const LOCKS = 12;

let c: TestCluster;
let node: ApiClient;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  const { token } = JSON.parse(await c.ctlOk("tokens", "add", "--format", "json")) as { token: string };
  const caCertPem = readIdentity(c.identity).caCertPem;
  const serverId = randomUUID();
  const identity = generateEd25519();
  await new ApiClient(c.authAddr, caCertPem).request("POST", "/v1/join", {
    token, server_id: serverId, hostname: "herd", addr: "127.0.0.1:3022", labels: {},
    identity_key: formatAuthorizedKey("ssh-ed25519", identity.publicBlob, serverId),
    host_key: formatAuthorizedKey("ssh-ed25519", generateEd25519().publicBlob, serverId), version: "test",
  });
  node = new ApiClient(c.authAddr, caCertPem, { subject: { node: serverId }, privateKey: identity.privateKey });
}, 60_000);

afterAll(() => c.close());

interface Feed {
  ws: WebSocket;
  first?: { type: string; rev: number; hash: string };
  /** The revisions this feed holds, in arrival order: the catch-up's changes, then pushes. */
  revs: number[];
}

function open(since: number, hash?: string): Feed {
  const path = hash ? `/v1/watch?since=${since}&hash=${hash}` : `/v1/watch?since=${since}`;
  const ws = new WebSocket(`wss://${c.authAddr}${path}`, { ...node.tls, headers: { authorization: node.authorization("GET", path) } });
  const feed: Feed = { ws, revs: [] };
  ws.on("message", (data) => {
    const msg = JSON.parse(data.toString()) as { type: string; rev: number; hash: string; changes?: { rev: number }[]; change?: { rev: number } };
    if (!feed.first) feed.first = { type: msg.type, rev: msg.rev, hash: msg.hash };
    if (msg.type === "changes") feed.revs.push(...msg.changes!.map((ch) => ch.rev));
    if (msg.type === "change") feed.revs.push(msg.change!.rev);
  });
  return feed;
}

test("a herd resuming at one revision while locks are written: every watcher gets each later change once, in order", async () => {
  const admin = clientFor({ kind: "identity", path: c.identity });
  const probe = open(0);
  await waitFor(() => probe.first !== undefined, 10_000, "the probe's snapshot");
  const snap = probe.first!;
  probe.ws.close();
  const feeds: Feed[] = [];
  const writing = (async () => {
    for (let i = 0; i < LOCKS; i++) await admin.request("PUT", "/v1/resources", { kind: "lock", target: { user: `herd-${i}` }, message: "test" });
  })();
  // Watchers arrive while the locks commit, all asking to resume at the snapshot's revision.
  for (let i = 0; i < FEEDS; i++) {
    feeds.push(open(snap.rev, snap.hash));
    if (i % 6 === 5) await Bun.sleep(5);
  }
  await writing;
  const { revision } = (await admin.request("GET", "/v1/status")) as { revision: number };
  expect(revision).toBeGreaterThanOrEqual(snap.rev + LOCKS);
  await waitFor(() => feeds.every((f) => f.revs.at(-1) === revision), 20_000, "every feed at the last revision");
  for (const f of feeds) {
    expect(f.first?.type).toBe("changes");
    const expected = Array.from({ length: revision - snap.rev }, (_, k) => snap.rev + 1 + k);
    expect(f.revs).toEqual(expected);
    f.ws.close();
  }
}, 60_000);
