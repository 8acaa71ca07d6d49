// Simulated agents for the fan-out and failover benchmarks, run as their own process:
//   bun bench/fanout-agents.ts AUTH_ADDRS CA_FILE TOKEN COUNT [--spread] [--follow]
// AUTH_ADDRS is one address or a comma list of replicas (each agent's `auth_servers`).
// --spread starts agent i on replica i mod n (the list rotated), otherwise all on the first.
// Each one joins once (POST /v1/join with the reusable token and its own ed25519
// identity key) and then follows /v1/watch over a WebSocket opened with a request token
// signed by that key, exactly as src/agent does (the `ws` package, the pinned CA).
// --follow adds what src/agent/feed-client.ts does to stay on the feed: a ping every 2 s
// (dead after 6 s without a pong), and on a lost feed the next replica after a jittered,
// doubling backoff (200 ms … 5 s), resuming with since=<revision>&hash=<history hash>.
// Without it a feed that closes stays closed (counted), as the single-auth bench wants.
// Talks to its parent in JSON lines on stdout; commands on stdin:
//   {"cmd":"await","lock":NAME,"timeoutMs":N} → {"event":"received","lock":NAME,"times":[…]}:
//     when each agent got the lock's change, in Date.now() ms (the parent's clock too: same
//     machine), null for an agent that did not, and the replica each one follows;
//   {"cmd":"resumes","from":ADDR,"after":MS,"timeoutMs":N} → {"event":"resumes","agents":[…]}:
//     for each agent whose feed on ADDR was open at MS, when that feed closed and when the
//     first feed message arrived on another replica after it, with its type (changes: a
//     resume from its revision; snapshot: it had to start over) and the attempts it took;
//   {"cmd":"usage"} → {"event":"usage","servers":{ADDR:open feeds},…}; {"cmd":"quit"}.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import WebSocket from "ws";
import { formatAuthorizedKey, generateEd25519 } from "../src/core/ssh-key.ts";
import { ApiClient } from "../src/platform/api-client.ts";
import { forEachBounded } from "./bounded-pool.ts";

const JOIN_CONCURRENCY = 16;
const CONNECT_CONCURRENCY = 64;
const PHASE_BUDGET_MS = 300_000;
/** The simulator ends itself after this long whatever its parent does. */
const LIFETIME_MS = 60 * 60_000;
/** Connections remembered per agent (the newest): enough for any failover the bench makes. */
const HISTORY = 32;
// src/agent/feed-client.ts, mirrored.
const PING_MS = 2_000;
const DEAD_AFTER_MS = 6_000;
const BACKOFF_MIN_MS = 200;
const BACKOFF_MAX_MS = 5_000;
const HANDSHAKE_TIMEOUT_MS = 5_000;

interface Connection {
  server: string;
  startedAt: number;
  openedAt?: number;
  closedAt?: number;
  closeCode?: number;
  /** Why it failed or closed, when it did: an error message or an HTTP status. */
  failure?: string;
  /** The first feed message on this connection: its arrival and type. */
  firstAt?: number;
  firstType?: string;
}

interface Options {
  follow: boolean;
}

class SimAgent {
  ws?: WebSocket;
  rev = 0;
  hash = "";
  synced = false;
  /** Lock name -> Date.now() when its change arrived. */
  readonly got = new Map<string, number>();
  readonly history: Connection[] = [];
  gaps = 0;
  #backoff = BACKOFF_MIN_MS;
  #forceSnapshot = false;
  #stopped = false;
  #pinger?: Timer;
  #lastPong = 0;
  #onSync?: (e?: Error) => void;

  constructor(readonly api: ApiClient, private readonly opts: Options) {}

  /** Opens the feed; resolves once the first catch-up arrived (in follow mode, on whichever replica). */
  follow(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#onSync = (e) => (e ? reject(e) : resolve());
      this.#connect();
    });
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#pinger);
    this.ws?.terminate();
  }

  #connect(): void {
    if (this.#stopped) return;
    const since = this.#forceSnapshot ? 0 : this.rev;
    const path = since > 0 ? `/v1/watch?since=${since}&hash=${this.hash}` : "/v1/watch?since=0";
    const server = this.api.authServer;
    const conn: Connection = { server, startedAt: Date.now() };
    this.history.push(conn);
    if (this.history.length > HISTORY) this.history.shift();
    const ws = new WebSocket(`wss://${server}${path}`, { ...this.api.tls, headers: { authorization: this.api.authorization("GET", path) }, handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
    this.ws = ws;
    ws.on("open", () => {
      conn.openedAt = Date.now();
      if (!this.opts.follow) return;
      this.#lastPong = Date.now();
      clearInterval(this.#pinger);
      this.#pinger = setInterval(() => {
        if (Date.now() - this.#lastPong > DEAD_AFTER_MS) return ws.terminate();
        ws.ping();
      }, PING_MS);
    });
    ws.on("pong", () => (this.#lastPong = Date.now()));
    ws.on("message", (data) => this.#message(ws, conn, data.toString()));
    ws.on("unexpected-response", (_req, res) => {
      conn.failure = `HTTP ${res.statusCode}`;
      if (!this.opts.follow) return this.#onSync?.(new Error(`feed refused: HTTP ${res.statusCode}`));
      ws.terminate();
    });
    ws.on("error", (e) => {
      conn.failure ??= e.message.replace(/\d+\.\d+\.\d+\.\d+:\d+/, "ADDR");
      if (!this.opts.follow && !this.synced) this.#onSync?.(e);
    });
    ws.on("close", (code) => this.#closed(ws, conn, code));
  }

  #message(ws: WebSocket, conn: Connection, text: string): void {
    const at = Date.now();
    try {
      const msg = JSON.parse(text) as { type?: string; rev?: number; hash?: string; changes?: FeedChange[]; change?: FeedChange };
      if (conn.firstAt === undefined) {
        conn.firstAt = at;
        conn.firstType = msg.type;
      }
      this.#apply(msg, at);
      this.#backoff = BACKOFF_MIN_MS;
      this.#forceSnapshot = false;
      if (!this.synced && (msg.type === "snapshot" || msg.type === "changes")) {
        this.synced = true;
        this.#onSync?.();
      }
    } catch {
      // As the agent does after a bad message: resynchronise from a snapshot.
      this.gaps++;
      this.#forceSnapshot = true;
      ws.terminate();
    }
  }

  #apply(msg: { type?: string; rev?: number; hash?: string; changes?: FeedChange[]; change?: FeedChange }, at: number): void {
    switch (msg.type) {
      case "snapshot":
        this.rev = msg.rev!;
        this.hash = msg.hash!;
        return;
      case "changes":
        for (const c of msg.changes ?? []) this.#saw(c, at);
        this.rev = msg.rev!;
        this.hash = msg.hash!;
        return;
      case "change": {
        const c = msg.change!;
        if (c.rev <= this.rev) return;
        if (c.rev !== this.rev + 1) throw new Error(`gap in change feed: have ${this.rev}, got ${c.rev}`);
        this.#saw(c, at);
        this.rev = c.rev;
        this.hash = c.hash;
        return;
      }
    }
  }

  #saw(c: FeedChange, at: number): void {
    if (c.kind === "lock" && c.op === "put" && !this.got.has(c.name)) this.got.set(c.name, at);
  }

  #closed(ws: WebSocket, conn: Connection, code: number): void {
    conn.closedAt = Date.now();
    conn.closeCode = code;
    if (this.ws !== ws) return;
    clearInterval(this.#pinger);
    if (this.#stopped || !this.opts.follow) return;
    if (code !== 1000) this.api.failover(conn.server);
    const delay = this.#backoff * (0.5 + Math.random() / 2);
    this.#backoff = Math.min(this.#backoff * 2, BACKOFF_MAX_MS);
    setTimeout(() => this.#connect(), delay);
  }
}

interface FeedChange {
  rev: number;
  hash: string;
  kind: string;
  op: string;
  name: string;
}

async function main(args: string[]): Promise<void> {
  const flags = new Set(args.filter((a) => a.startsWith("--")));
  const [addrs, caFile, token, countArg] = args.filter((a) => !a.startsWith("--"));
  const count = Number(countArg);
  if (!addrs || !caFile || !token || !Number.isSafeInteger(count) || count < 1) throw new Error("usage: fanout-agents.ts AUTH_ADDRS CA_FILE TOKEN COUNT [--spread] [--follow]");
  const servers = addrs.split(",");
  const opts: Options = { follow: flags.has("--follow") };
  const caCertPem = readFileSync(caFile, "utf8");
  setTimeout(() => process.exit(3), LIFETIME_MS).unref();
  const agents: SimAgent[] = [];
  let t = performance.now();
  await forEachBounded(Array.from({ length: count }), JOIN_CONCURRENCY, t + PHASE_BUDGET_MS, async (_, i) => {
    const mine = flags.has("--spread") ? [...servers.slice(i % servers.length), ...servers.slice(0, i % servers.length)] : servers;
    agents.push(await join(mine, caCertPem, token, opts));
  });
  const joinSeconds = (performance.now() - t) / 1000;
  emit({ event: "joined", agents: agents.length, seconds: joinSeconds });
  t = performance.now();
  await forEachBounded(agents, CONNECT_CONCURRENCY, t + PHASE_BUDGET_MS, (a) => a.follow());
  emit({ event: "ready", agents: agents.length, joinSeconds, connectSeconds: (performance.now() - t) / 1000, servers: openFeeds(agents) });
  for await (const line of console) {
    const cmd = JSON.parse(line) as { cmd: string; lock?: string; timeoutMs?: number; from?: string; after?: number };
    if (cmd.cmd === "await") emit({
      event: "received", lock: cmd.lock, times: await received(agents, cmd.lock!, cmd.timeoutMs ?? 5_000),
      servers: agents.map((a) => a.history.at(-1)?.server ?? null), closed: agents.filter((a) => a.ws?.readyState !== WebSocket.OPEN).length,
    });
    if (cmd.cmd === "resumes") emit({ event: "resumes", agents: await resumes(agents, cmd.from!, cmd.after!, cmd.timeoutMs ?? 30_000) });
    if (cmd.cmd === "usage") emit({ event: "usage", servers: openFeeds(agents), gaps: agents.reduce((n, a) => n + a.gaps, 0) });
    if (cmd.cmd === "quit") break;
  }
  for (const a of agents) a.stop();
}

/** Joins like src/agent/node-identity.ts: a fresh server UUID, identity key and host key. */
async function join(servers: string[], caCertPem: string, token: string, opts: Options): Promise<SimAgent> {
  const serverId = randomUUID();
  const identity = generateEd25519();
  const hostKey = generateEd25519();
  await new ApiClient(servers, caCertPem).request("POST", "/v1/join", {
    token, server_id: serverId, hostname: `sim-${serverId.slice(0, 8)}`, addr: "127.0.0.1:3022", labels: { bench: "fanout" },
    identity_key: formatAuthorizedKey("ssh-ed25519", identity.publicBlob, serverId),
    host_key: formatAuthorizedKey("ssh-ed25519", hostKey.publicBlob, serverId), version: "bench",
  });
  return new SimAgent(new ApiClient(servers, caCertPem, { subject: { node: serverId }, privateKey: identity.privateKey }), opts);
}

function openFeeds(agents: SimAgent[]): Record<string, number> {
  const by: Record<string, number> = {};
  for (const a of agents) {
    if (a.ws?.readyState !== WebSocket.OPEN) continue;
    const server = a.history.at(-1)!.server;
    by[server] = (by[server] ?? 0) + 1;
  }
  return by;
}

async function received(agents: SimAgent[], lock: string, timeoutMs: number): Promise<(number | null)[]> {
  const deadline = performance.now() + timeoutMs;
  while (agents.some((a) => !a.got.has(lock)) && performance.now() < deadline) await Bun.sleep(20);
  return agents.map((a) => a.got.get(lock) ?? null);
}

interface Resume {
  /** Date.now() when the feed on `from` closed, when the first message arrived on another replica, and its type. */
  lostAt: number | null;
  resumedAt: number | null;
  type: string | null;
  /** Connections started after the loss up to and including the one that resumed. */
  attempts: number;
  via: string | null;
  /** Each attempt before the one that resumed: on the replica that died or another, why it failed, after how long. */
  failures: { on: "killed" | "other"; reason: string; ms: number }[];
}

/** Waits (at most timeoutMs) until every agent that was on `from` at `after` has its first feed message on another replica. */
async function resumes(agents: SimAgent[], from: string, after: number, timeoutMs: number): Promise<Resume[]> {
  const wasOn = agents.filter((a) => a.history.some((c) => c.server === from && c.openedAt !== undefined && c.openedAt <= after && (c.closedAt === undefined || c.closedAt >= after)));
  const resumeOf = (a: SimAgent): Resume => {
    const lost = a.history.find((c) => c.server === from && c.openedAt !== undefined && c.openedAt <= after && (c.closedAt === undefined || c.closedAt >= after))!;
    const later = a.history.filter((c) => c.startedAt >= (lost.closedAt ?? Infinity));
    const back = later.findIndex((c) => c.server !== from && c.firstAt !== undefined);
    const hit = back >= 0 ? later[back]! : undefined;
    const tried = back >= 0 ? later.slice(0, back) : later;
    return {
      lostAt: lost.closedAt ?? null, resumedAt: hit?.firstAt ?? null, type: hit?.firstType ?? null, attempts: back >= 0 ? back + 1 : later.length, via: hit?.server ?? null,
      failures: tried.map((c) => ({ on: c.server === from ? "killed" : "other", reason: c.failure ?? `closed ${c.closeCode}`, ms: (c.closedAt ?? NaN) - c.startedAt })),
    };
  };
  const deadline = performance.now() + timeoutMs;
  while (wasOn.some((a) => resumeOf(a).resumedAt === null) && performance.now() < deadline) await Bun.sleep(20);
  return wasOn.map(resumeOf);
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
