// Fans every change of the store out to the agents' WebSockets (the change feed).
// The hub follows the store's changes table, so a change made through any replica
// sharing the database reaches this replica's agents; a new watcher gets the changes
// since its revision, or a snapshot (one read shared by the watchers that ask the same),
// and then every later change exactly once.
import type { ServerWebSocket } from "bun";
import { toExternal } from "../core/resources.ts";
import type { Change, FeedSnapshot, Store } from "./store.ts";
import type { Logger } from "../platform/logger.ts";

export interface WatchSocketData {
  serverId: string;
  since: number;
  /** The history hash the agent holds at `since`; changes are sent only when ours agrees. */
  hash?: string;
}

export type FeedMessage =
  | { type: "snapshot"; rev: number; hash: string; resources: Record<string, unknown>[]; userCaKeys: string[] }
  | { type: "changes"; rev: number; hash: string; changes: Change[]; userCaKeys: string[] }
  | { type: "change"; change: Change };

const FEED_KINDS = ["cluster_config", "role", "user", "lock"] as const;
/** Distinct catch-ups kept for sharing at most (they are dropped anyway at the next change). */
const SHARED_MAX = 256;

/** A catch-up as read once and sent to every watcher that shares it. */
interface CatchUp {
  rev: number;
  text: string;
  /** Why a watcher that asked to resume got a snapshot instead, if it did. */
  mismatch?: string;
}

interface Watcher {
  ws: ServerWebSocket<WatchSocketData>;
  /** Changes published while its catch-up was being read; undefined once it is live. */
  pending?: Change[];
  /**
   * The revision its catch-up reached: the hub may publish older changes after it (they
   * were committed, by this replica or another, before the hub read them), not sent again.
   */
  caughtUp: number;
}

export interface FeedFollower {
  /** The feed restarted from a snapshot (changes were trimmed): reload whatever follows it. */
  reset(locks: FeedSnapshot): void;
  apply(c: Change): void;
}

export class WatchHub {
  readonly #watchers = new Map<ServerWebSocket<WatchSocketData>, Watcher>();
  /** The last revision published to the watchers (read from the store, in order). */
  #rev = 0;
  #syncing?: Promise<void>;
  #again = false;
  /**
   * Catch-ups by since + hash, read once for every watcher that asks the same while no
   * change was published: after a replica dies its agents all resume here at one
   * revision, and 1,000 identical reads (three queries each) would queue on the pool.
   */
  readonly #shared = new Map<string, Promise<CatchUp>>();

  constructor(private readonly store: Store, private readonly userCaKeys: () => string[], private readonly log: Logger,
    private readonly follower?: FeedFollower) {}

  get size(): number {
    return this.#watchers.size;
  }

  /**
   * A command for one node's agent over its feed (not a change: no revision, not kept):
   * `terminate` a session. Returns how many of its connections it went out on.
   */
  command(serverId: string, msg: { type: "terminate"; sid: string; reason: string }): number {
    let sent = 0;
    for (const w of this.#watchers.values()) {
      if (w.ws.data.serverId !== serverId) continue;
      w.ws.send(JSON.stringify(msg));
      sent++;
    }
    return sent;
  }

  /** The nodes whose agents follow the feed through this replica. */
  nodes(): string[] {
    return [...new Set([...this.#watchers.keys()].map((ws) => ws.data.serverId))];
  }

  get revision(): number {
    return this.#rev;
  }

  /** Starts following the store at its current revision, loading the follower at the same one. */
  async start(): Promise<void> {
    const snap = await this.store.feedSnapshot(["lock"]);
    this.follower?.reset(snap);
    this.#rev = snap.rev;
    this.#shared.clear();
  }

  /**
   * Registers the socket before reading its catch-up: every change published from then
   * on is held for it, so nothing slips between catch-up and push, whatever the awaits.
   */
  async add(ws: ServerWebSocket<WatchSocketData>): Promise<void> {
    const w: Watcher = { ws, pending: [], caughtUp: 0 };
    this.#watchers.set(ws, w);
    // Every change published before registration must be in the catch-up this watcher gets.
    const published = this.#rev;
    this.log.debug("watcher connected", { server_id: ws.data.serverId, since: ws.data.since });
    try {
      const first = await this.#catchUp(ws.data, published);
      if (!this.#watchers.has(ws)) return;
      if (first.mismatch) this.log.info("watcher resumes from a revision we cannot vouch for; sending a snapshot", { server_id: ws.data.serverId, since: ws.data.since, rev: first.rev, reason: first.mismatch });
      ws.send(first.text);
      // Everything the hub published before registration is in the catch-up (it reaches `published`).
      for (const change of w.pending ?? []) if (change.rev > first.rev) ws.send(changeMessage(change));
      w.caughtUp = first.rev;
      w.pending = undefined;
    } catch (e) {
      this.log.warn("change feed catch-up failed; closing the watcher", { server_id: ws.data.serverId, error: e as Error });
      this.#watchers.delete(ws);
      ws.close(1013, "auth store unavailable");
    }
  }

  remove(ws: ServerWebSocket<WatchSocketData>): void {
    this.#watchers.delete(ws);
  }

  /** Reads and publishes the changes committed since the last one published (any replica's). */
  sync(): Promise<void> {
    if (this.#syncing) {
      this.#again = true;
      return this.#syncing;
    }
    this.#syncing = this.#drain().finally(() => (this.#syncing = undefined));
    return this.#syncing;
  }

  /**
   * Returns once revision `rev` (our own committed write) has been published: a drain
   * already running reads again after it, so one sync is enough.
   */
  async syncTo(rev: number): Promise<void> {
    if (this.#rev < rev) await this.sync();
  }

  /** Closes every feed with `code` (1013: try another replica; this one cannot vouch for freshness now). */
  closeAll(code: number, reason: string): void {
    for (const { ws } of this.#watchers.values()) ws.close(code, reason);
  }

  /** Closes the feeds of one node (it was deleted) or of all (shutdown). */
  close(serverId?: string): void {
    for (const { ws } of this.#watchers.values()) if (serverId === undefined || ws.data.serverId === serverId) ws.close(1000, "closing");
  }

  async #drain(): Promise<void> {
    do {
      this.#again = false;
      const changes = await this.store.changesSince(this.#rev);
      if (!changes) {
        // Fell behind what the store keeps: reload, and make every agent start over from a snapshot.
        this.log.warn("change feed fell behind the kept history; watchers will resynchronise", { rev: this.#rev });
        await this.start();
        for (const { ws } of this.#watchers.values()) ws.close(1012, "feed restarted");
        continue;
      }
      for (const change of changes) this.#publish(change);
    } while (this.#again);
  }

  #publish(change: Change): void {
    if (change.rev <= this.#rev) return;
    this.#rev = change.rev;
    // Every catch-up read so far is now short of this change.
    this.#shared.clear();
    this.follower?.apply(change);
    const msg = changeMessage(change);
    for (const w of this.#watchers.values()) {
      if (w.pending) w.pending.push(change);
      else if (change.rev > w.caughtUp) w.ws.send(msg);
    }
  }

  /**
   * The catch-up for (since, hash): one read shared by the watchers that ask the same,
   * used only when it reaches `published` (a read begun before a change was published
   * may lack it, and that change will not come again as a push); else read anew.
   */
  async #catchUp({ since, hash }: WatchSocketData, published: number): Promise<CatchUp> {
    const key = `${since}:${hash ?? ""}`;
    const shared = this.#shared.get(key);
    if (shared) {
      const got = await shared.catch(() => undefined);
      if (got && got.rev >= published) return got;
    }
    const read = this.#read(since, hash);
    if (this.#shared.size >= SHARED_MAX) this.#shared.clear();
    this.#shared.set(key, read);
    read.catch(() => this.#shared.get(key) === read && this.#shared.delete(key));
    return read;
  }

  /**
   * Changes since the agent's revision only when its history hash there is ours: a
   * bare revision from a restored or diverged store would name other changes.
   */
  async #read(since: number, hash: string | undefined): Promise<CatchUp> {
    const ours = since > 0 ? await this.store.historyHash(since) : undefined;
    const changes = ours !== undefined && ours === hash ? await this.store.changesSince(since) : undefined;
    if (changes && ours !== undefined) {
      const last = changes.at(-1);
      const msg: FeedMessage = { type: "changes", rev: last?.rev ?? since, hash: last?.hash ?? ours, changes, userCaKeys: this.userCaKeys() };
      return { rev: msg.rev, text: JSON.stringify(msg) };
    }
    const snap = await this.store.feedSnapshot(FEED_KINDS);
    const msg: FeedMessage = { type: "snapshot", rev: snap.rev, hash: snap.hash, resources: snap.resources.map(toExternal), userCaKeys: this.userCaKeys() };
    return { rev: snap.rev, text: JSON.stringify(msg), ...(since > 0 ? { mismatch: historyMismatch(since, snap.rev, ours, hash) } : {}) };
  }
}

function changeMessage(change: Change): string {
  return JSON.stringify({ type: "change", change } satisfies FeedMessage);
}

function historyMismatch(since: number, rev: number, ours: string | undefined, theirs: string | undefined): string {
  if (since > rev) return "its revision is ahead of ours (this store was restored or replaced)";
  if (ours === undefined) return "that revision is no longer kept";
  if (theirs === undefined) return "it sent no history hash";
  return "its history differs from ours at that revision (this store was restored or replaced)";
}
