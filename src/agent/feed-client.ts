// Follows the auth service's change feed over one WebSocket: catch-up on connect,
// pushes after, pings to prove the view is still fresh, reconnects with backoff.
import WebSocket from "ws";
import type { ApiClient } from "../platform/api-client.ts";
import { serverTimeOf } from "../platform/server-clock.ts";
import { isDiskFull } from "../platform/disk-full.ts";
import type { Logger } from "../platform/logger.ts";
import type { ClusterView, FeedChange } from "./cluster-view.ts";

const PING_MS = 2_000;
const DEAD_AFTER_MS = 6_000;
const BACKOFF_MIN_MS = 200;
const BACKOFF_MAX_MS = 5_000;
/** After agent.db refused a write, the cache is rewritten from a snapshot this often until it takes one. */
const CACHE_RETRY_MS = 10_000;

export class FeedClient {
  connected = false;
  /** Called for a snapshot older than the view: the auth service's history went back (a restore or failover). */
  onRewind: () => void = () => {};
  /** Called on every (re)connection: the auth service answers again. */
  onConnected: () => void = () => {};
  /** The auth service asks to end one session now (an operator terminated it). */
  onTerminate: (sid: string, reason: string) => void = () => {};
  #ws?: WebSocket;
  #stopped = false;
  #backoff = BACKOFF_MIN_MS;
  #timer?: Timer;
  #lastPong = 0;
  /** After a bad message: ask for a snapshot instead of resuming. */
  #forceSnapshot = false;
  #synced!: () => void;
  /** Resolves when the first catch-up has been applied, or the first attempt failed. */
  readonly firstAttempt = new Promise<void>((r) => (this.#synced = r));

  #cacheRetry?: Timer;

  constructor(private readonly api: ApiClient, private readonly view: ClusterView, private readonly log: Logger, private readonly now: () => Date = () => new Date()) {
    view.onCacheError = (e) => this.#cacheFailed(e);
  }

  /** agent.db cannot take the view (a full disk): enforce from memory, rewrite the cache from a snapshot later. */
  #cacheFailed(e: Error): void {
    if (this.#cacheRetry) return;
    this.log.warn("the lock view cache (agent.db) cannot be written; enforcing from memory, will rewrite it from a snapshot", { error: e, disk_full: isDiskFull(e) });
    this.#cacheRetry = setTimeout(() => {
      this.#cacheRetry = undefined;
      if (this.view.cacheOk || this.#stopped) return;
      this.#forceSnapshot = true;
      this.#ws?.terminate();
    }, CACHE_RETRY_MS);
  }

  start(): void {
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#cacheRetry);
    clearInterval(this.#timer);
    this.#ws?.terminate();
  }

  #connect(): void {
    if (this.#stopped) return;
    const since = this.#forceSnapshot ? 0 : this.view.rev;
    // The revision alone is not enough: the hash names the history it belongs to.
    const path = since > 0 ? `/v1/watch?since=${since}&hash=${this.view.revHash}` : "/v1/watch?since=0";
    const server = this.api.authServer;
    const ws = new WebSocket(`wss://${server}${path}`, {
      ...this.api.tls,
      headers: { authorization: this.api.authorization("GET", path) },
      handshakeTimeout: 5_000,
    });
    this.#ws = ws;
    // The upgrade's answer (or refusal) carries the auth service's time: a refusal for a
    // skewed clock corrects the clock before the next attempt.
    const sentAt = Date.now();
    const observe = (res: { headers: Record<string, string | string[] | undefined> }) => {
      const serverMs = serverTimeOf({ get: (n) => String(res.headers[n] ?? "") || null });
      if (serverMs !== undefined) this.api.clock.observe(sentAt, Date.now(), serverMs);
    };
    ws.on("upgrade", observe);
    ws.on("open", () => this.#opened(ws));
    ws.on("message", (data) => this.#message(ws, data.toString()));
    ws.on("pong", () => {
      this.#lastPong = Date.now();
      this.view.markSynced(this.now());
    });
    ws.on("unexpected-response", (_req, res) => {
      observe(res);
      this.log.warn("change feed refused", { status: res.statusCode });
      ws.terminate();
    });
    ws.on("error", (e) => this.log.debug("change feed error", { error: e }));
    ws.on("close", (code) => this.#closed(ws, server, code));
  }

  #opened(ws: WebSocket): void {
    this.connected = true;
    this.onConnected();
    this.#lastPong = Date.now();
    clearInterval(this.#timer);
    this.#timer = setInterval(() => {
      if (Date.now() - this.#lastPong > DEAD_AFTER_MS) return ws.terminate();
      ws.ping();
    }, PING_MS);
  }

  #message(ws: WebSocket, text: string): void {
    try {
      this.#apply(JSON.parse(text));
      this.#synced();
      this.#backoff = BACKOFF_MIN_MS;
      this.#forceSnapshot = false;
    } catch (e) {
      this.log.error("bad change-feed message; resyncing from a snapshot", { error: e as Error });
      this.#forceSnapshot = true;
      ws.terminate();
    }
  }

  #apply(msg: { type?: string; rev?: number; hash?: string; resources?: Record<string, unknown>[]; changes?: FeedChange[]; change?: FeedChange; userCaKeys?: string[] }): void {
    const at = this.now();
    switch (msg.type) {
      case "snapshot":
        return this.#snapshot(num(msg.rev), hash(msg.hash), arr(msg.resources), arr(msg.userCaKeys), at);
      case "changes":
        this.view.applyChanges(arr(msg.changes), arr(msg.userCaKeys), at, { rev: num(msg.rev), hash: hash(msg.hash) });
        return;
      case "change": {
        const c = msg.change;
        if (!c || typeof c.rev !== "number") throw new Error("change without a revision");
        if (c.rev <= this.view.rev) return;
        if (c.rev !== this.view.rev + 1) throw new Error(`gap in change feed: have ${this.view.rev}, got ${c.rev}`);
        hash(c.hash);
        this.view.applyChanges([c], undefined, at);
        return;
      }
      case "terminate": {
        const { sid, reason } = msg as { sid?: unknown; reason?: unknown };
        if (typeof sid !== "string" || typeof reason !== "string") throw new Error("terminate without sid and reason");
        this.onTerminate(sid, reason);
        return;
      }
      default:
        throw new Error(`unknown message type ${JSON.stringify(msg.type)}`);
    }
  }

  #snapshot(rev: number, revHash: string, resources: Record<string, unknown>[], userCaKeys: string[], at: Date): void {
    const had = { rev: this.view.rev, hash: this.view.revHash, cacheOk: this.view.cacheOk };
    this.view.applySnapshot(rev, revHash, resources, userCaKeys, at);
    this.log.info("change feed: snapshot", { rev, resources: resources.length });
    if (!had.cacheOk && this.view.cacheOk) this.log.info("the lock view cache (agent.db) is written again");
    if (had.rev === 0) return;
    if (rev < had.rev) {
      this.onRewind();
      this.log.warn("the auth service sent a snapshot older than this view: its history went back (a database restore or a failover); the view now follows it",
        { view_rev: had.rev, snapshot_rev: rev });
    } else if (rev === had.rev && revHash !== had.hash) {
      this.log.warn("the auth service's history differs from this view's at the same revision (a database restore or a failover); the view now follows it", { rev });
    }
  }

  #closed(ws: WebSocket, server: string, code: number): void {
    if (this.#ws !== ws) return;
    this.#synced();
    this.connected = false;
    clearInterval(this.#timer);
    if (this.#stopped) return;
    // Anything but a clean close from a replica that stays up (a killed one, one whose
    // store is down, one we never reached): resume the feed from our revision on the next.
    if (code !== 1000) {
      this.api.failover(server);
      this.log.info("change feed lost; resuming on the next auth server", { code, next: this.api.authServer, rev: this.view.rev });
    }
    const delay = this.#backoff * (0.5 + Math.random() / 2);
    this.#backoff = Math.min(this.#backoff * 2, BACKOFF_MAX_MS);
    setTimeout(() => this.#connect(), delay);
  }
}

function num(v: unknown): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new Error("bad revision");
  return v;
}

function hash(v: unknown): string {
  if (typeof v !== "string") throw new Error("missing history hash");
  return v;
}

function arr<T>(v: T[] | undefined): T[] {
  if (!Array.isArray(v)) throw new Error("expected an array");
  return v;
}
