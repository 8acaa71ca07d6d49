// Simulated agents for the fan-out benchmark, run as their own process:
//   bun bench/fanout-agents.ts AUTH_ADDR CA_FILE TOKEN COUNT
// Each one joins once (POST /v1/join with the reusable token and its own ed25519
// identity key) and then follows /v1/watch over a WebSocket opened with a request token
// signed by that key, exactly as src/agent does (the `ws` package, the pinned CA).
// Talks to its parent in JSON lines: it prints {"event":"ready",…} once every agent
// holds its feed, then answers {"cmd":"await","lock":NAME,"timeoutMs":N} on stdin with
// {"event":"received","lock":NAME,"times":[…]}: when each agent got the lock's change,
// in Date.now() ms (the parent's clock too: same machine), null for an agent that did not.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import WebSocket from "ws";
import { formatAuthorizedKey, generateEd25519 } from "../src/core/ssh-key.ts";
import { ApiClient } from "../src/platform/api-client.ts";
import { forEachBounded } from "./bounded-pool.ts";

const JOIN_CONCURRENCY = 16;
const CONNECT_CONCURRENCY = 64;
const PHASE_BUDGET_MS = 150_000;

interface SimAgent {
  api: ApiClient;
  ws?: WebSocket;
  synced: boolean;
  /** Lock name -> Date.now() when its change arrived. */
  got: Map<string, number>;
}

async function main([authAddr, caFile, token, countArg]: string[]): Promise<void> {
  const count = Number(countArg);
  if (!authAddr || !caFile || !token || !Number.isSafeInteger(count) || count < 1) throw new Error("usage: fanout-agents.ts AUTH_ADDR CA_FILE TOKEN COUNT");
  const caCertPem = readFileSync(caFile, "utf8");
  const agents: SimAgent[] = [];
  let t = performance.now();
  await forEachBounded(Array.from({ length: count }), JOIN_CONCURRENCY, t + PHASE_BUDGET_MS, async () => {
    agents.push(await join(authAddr, caCertPem, token));
  });
  const joinSeconds = (performance.now() - t) / 1000;
  emit({ event: "joined", agents: agents.length, seconds: joinSeconds });
  t = performance.now();
  await forEachBounded(agents, CONNECT_CONCURRENCY, t + PHASE_BUDGET_MS, (a) => follow(authAddr, a));
  emit({ event: "ready", agents: agents.length, joinSeconds, connectSeconds: (performance.now() - t) / 1000 });
  for await (const line of console) {
    const cmd = JSON.parse(line) as { cmd: string; lock?: string; timeoutMs?: number };
    if (cmd.cmd === "await") emit({ event: "received", lock: cmd.lock, times: await received(agents, cmd.lock!, cmd.timeoutMs ?? 5_000), closed: agents.filter((a) => a.ws?.readyState !== WebSocket.OPEN).length });
    if (cmd.cmd === "quit") break;
  }
  for (const a of agents) a.ws?.terminate();
}

/** Joins like src/agent/node-identity.ts: a fresh server UUID, identity key and host key. */
async function join(authAddr: string, caCertPem: string, token: string): Promise<SimAgent> {
  const serverId = randomUUID();
  const identity = generateEd25519();
  const hostKey = generateEd25519();
  await new ApiClient(authAddr, caCertPem).request("POST", "/v1/join", {
    token, server_id: serverId, hostname: `sim-${serverId.slice(0, 8)}`, addr: "127.0.0.1:3022", labels: { bench: "fanout" },
    identity_key: formatAuthorizedKey("ssh-ed25519", identity.publicBlob, serverId),
    host_key: formatAuthorizedKey("ssh-ed25519", hostKey.publicBlob, serverId), version: "bench",
  });
  const api = new ApiClient(authAddr, caCertPem, { subject: { node: serverId }, privateKey: identity.privateKey });
  return { api, synced: false, got: new Map() };
}

/** Opens the change feed like src/agent/feed-client.ts and resolves once the catch-up arrived. */
function follow(authAddr: string, a: SimAgent): Promise<void> {
  return new Promise((resolve, reject) => {
    const path = "/v1/watch?since=0";
    const ws = new WebSocket(`wss://${authAddr}${path}`, { ...a.api.tls, headers: { authorization: a.api.authorization("GET", path) }, handshakeTimeout: 10_000 });
    a.ws = ws;
    ws.on("message", (data) => {
      const at = Date.now();
      const msg = JSON.parse(data.toString()) as { type: string; change?: { kind: string; op: string; name: string } };
      if (msg.type === "change" && msg.change?.kind === "lock" && msg.change.op === "put") a.got.set(msg.change.name, at);
      if (!a.synced && (msg.type === "snapshot" || msg.type === "changes")) {
        a.synced = true;
        resolve();
      }
    });
    ws.on("unexpected-response", (_req, res) => reject(new Error(`feed refused: HTTP ${res.statusCode}`)));
    ws.on("error", (e) => a.synced || reject(e));
  });
}

async function received(agents: SimAgent[], lock: string, timeoutMs: number): Promise<(number | null)[]> {
  const deadline = performance.now() + timeoutMs;
  while (agents.some((a) => !a.got.has(lock)) && performance.now() < deadline) await Bun.sleep(20);
  return agents.map((a) => a.got.get(lock) ?? null);
}

function emit(o: object): void {
  process.stdout.write(JSON.stringify(o) + "\n");
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e) => {
    emit({ event: "error", message: (e as Error).message });
    process.exit(1);
  },
);
