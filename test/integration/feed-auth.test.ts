// The change feed and node API accept only a node proving its own identity:
// no token, a token for another node's UUID, or a replayed token are refused.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import WebSocket from "ws";
import { decodeOpenSshPrivateKey } from "../../src/core/openssh-private-key.ts";
import { ApiClient, ApiError } from "../../src/platform/api-client.ts";
import { readIdentity } from "../../src/platform/identity-file.ts";
import { TestCluster, type Agent } from "../helpers/cluster.ts";

let c: TestCluster;
let a1: Agent;
let a2: Agent;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  [a1, a2] = [await c.addAgent(), await c.addAgent()];
}, 60_000);

afterAll(() => c.close());

function nodeClient(agent: Agent, claim?: string): ApiClient {
  const id = readIdentity(join(agent.dir, "identity"));
  return new ApiClient(c.authAddr, id.caCertPem, { subject: { node: claim ?? agent.serverId() }, privateKey: decodeOpenSshPrivateKey(id.keyPem) });
}

function openFeed(client: ApiClient, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`wss://${c.authAddr}/v1/watch?since=0`, { ...client.tls, headers });
    ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.on("open", () => {
      ws.close();
      resolve(101);
    });
    ws.on("error", () => resolve(-1));
  });
}

test("a feed without a token is refused", async () => {
  expect(await openFeed(nodeClient(a1), {})).toBe(401);
});

test("a node cannot open the feed or heartbeat as another node's UUID", async () => {
  const impostor = nodeClient(a1, a2.serverId());
  expect(await openFeed(impostor, { authorization: impostor.authorization("GET", "/v1/watch?since=0") })).toBe(401);
  const err = await impostor.request("POST", "/v1/nodes/heartbeat", {}).catch((e) => e);
  expect(err).toBeInstanceOf(ApiError);
  expect((err as ApiError).status).toBe(401);
  expect((err as ApiError).message).toContain("node signature does not verify");
});

test("a node's own token opens the feed once; the same token again is a replay", async () => {
  const own = nodeClient(a1);
  const header = own.authorization("GET", "/v1/watch?since=0");
  expect(await openFeed(own, { authorization: header })).toBe(101);
  expect(await openFeed(own, { authorization: header })).toBe(401);
});

test("a node may not use operator endpoints", async () => {
  const err = await nodeClient(a1).request("PUT", "/v1/resources", { kind: "lock", target: { user: "x" } }).catch((e) => e);
  expect((err as ApiError).status).toBe(403);
});

test("garbage on the wire gets a clean refusal, never a 500 or a crash", async () => {
  const client = nodeClient(a1);
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`https://${c.authAddr}${path}`, { headers, tls: client.tls });
  expect((await get("/v1/resources/%ZZ", { authorization: client.authorization("GET", "/v1/resources/%ZZ") })).status).toBe(400);
  expect((await get("/v1/status", { authorization: "HW1 " + Buffer.from(crypto.getRandomValues(new Uint8Array(3000))).toString("base64url") + ".x" })).status).toBe(401);
  const join = await fetch(`https://${c.authAddr}/v1/join`, { method: "POST", body: '{"token":[1]}', tls: client.tls });
  expect(join.status).toBe(400);
  expect(await join.json()).toEqual({ error: "token: expected a non-empty string" });
  for (let i = 0; i < 3; i++) {
    const sock = await Bun.connect({ hostname: "127.0.0.1", port: a1.sshPort, socket: { data() {} } });
    sock.write(crypto.getRandomValues(new Uint8Array(65536)));
    sock.end();
  }
  // Both still answer: the agent's diagnostics (same process as its SSH server) and the API.
  expect((await fetch(`http://127.0.0.1:${a1.diagPort}/healthz`)).status).toBe(200);
  expect((await get("/v1/ca")).status).toBe(200);
  expect(a1.proc.proc.exitCode).toBeNull();
  expect(c.auth.proc.exitCode).toBeNull();
  expect(c.auth.output()).not.toContain('"request failed"');
});
