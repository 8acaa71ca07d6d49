// The agent's in-memory view of the cluster (roles, users, locks, cluster_config,
// user CA keys), fed by the change feed and mirrored to the SQLite cache.
import { LockIndex } from "../core/lock-index.ts";
import { parseResource } from "../core/resources.ts";
import { DEFAULT_CLUSTER_CONFIG, type ClusterConfig, type Resource, type Role, type User } from "../core/resource-types.ts";
import { parseAuthorizedKeyLine } from "../core/ssh-key.ts";
import type { ViewDb, ViewWrite } from "./view-db.ts";

/** Decoding cached resources must not reject locks whose expiry has since passed. */
const EPOCH = new Date(0);

export interface FeedChange {
  rev: number;
  op: "put" | "delete";
  kind: string;
  name: string;
  resource?: Record<string, unknown>;
  /** The history hash after this change. */
  hash?: string;
}

export class ClusterView {
  roles = new Map<string, Role>();
  users = new Map<string, User>();
  locks = new LockIndex();
  clusterConfig: ClusterConfig = DEFAULT_CLUSTER_CONFIG;
  userCaKeys: Uint8Array[] = [];
  rev = 0;
  /** The feed's history hash at `rev`: sent back on reconnect so a restored auth store is caught. */
  revHash = "";
  lastSyncedAt?: Date;
  readonly #listeners = new Set<() => void>();
  /** False after agent.db refused a write (a full disk): memory is right, the cache lags behind. */
  cacheOk = true;
  /** Told when the cache could not be written; the feed client then resyncs it from a snapshot later. */
  onCacheError: (e: Error) => void = () => {};

  constructor(private readonly db: ViewDb) {
    const stored = db.load();
    this.rev = stored.rev;
    this.revHash = stored.revHash;
    this.lastSyncedAt = stored.lastSyncedAt;
    this.#setCaKeys(stored.userCaKeys);
    for (const obj of stored.resources) this.#put(decode(obj));
  }

  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  rolesOf(user: string): Role[] {
    return (this.users.get(user)?.roles ?? []).map((r) => this.roles.get(r)).filter((r): r is Role => r !== undefined);
  }

  /** Replaces everything. Every resource is decoded before anything changes; memory first, then the cache. */
  applySnapshot(rev: number, revHash: string, resources: Record<string, unknown>[], userCaKeys: string[], at: Date): void {
    const decoded = resources.map(decode);
    this.#setCaKeys(userCaKeys);
    this.roles.clear();
    this.users.clear();
    this.locks = new LockIndex();
    this.clusterConfig = DEFAULT_CLUSTER_CONFIG;
    for (const r of decoded) this.#put(r);
    this.#commit(rev, revHash, at);
    this.#writeCache({ rev, revHash, userCaKeys, replace: true, syncedAt: at, deletes: [], puts: decoded.map((r, i) => ({ kind: r.kind, name: r.name, data: resources[i]! })) });
  }

  /** Applies changes in order; a malformed one throws before anything is applied. */
  applyChanges(changes: FeedChange[], userCaKeys: string[] | undefined, at: Date, head?: { rev: number; hash: string }): void {
    const decoded = changes.map((c) => ({ c, r: c.op === "put" ? decode(c.resource) : undefined }));
    const newRev = head?.rev ?? changes.at(-1)?.rev ?? this.rev;
    const newHash = head?.hash ?? changes.at(-1)?.hash ?? this.revHash;
    const caKeys = userCaKeys ?? this.userCaKeyLines;
    if (userCaKeys) this.#setCaKeys(userCaKeys);
    const write: ViewWrite = { rev: newRev, revHash: newHash, userCaKeys: caKeys, replace: false, syncedAt: at, puts: [], deletes: [] };
    for (const { c, r } of decoded) {
      if (r) write.puts.push({ kind: r.kind, name: r.name, data: c.resource! });
      else write.deletes.push({ kind: c.kind, name: c.name });
    }
    // Memory and the cut first, the disk flush after: a lock must not wait on fsync.
    // Should the process die between the two, the stored revision is still the old
    // one, and the feed delivers these changes again on reconnect.
    for (const { c, r } of decoded) r ? this.#put(r) : this.#delete(c.kind, c.name);
    this.#commit(newRev, newHash, at);
    // A cache that missed a write must not take later changes on top of the gap: it waits
    // for the snapshot that rewrites it whole.
    if (this.cacheOk) this.#writeCache(write);
  }

  markSynced(at: Date): void {
    this.lastSyncedAt = at;
    if (!this.cacheOk) return;
    try {
      this.db.markSynced(at);
    } catch (e) {
      this.#cacheFailed(e as Error);
    }
  }

  /** The cache is written in one transaction or not at all; a failure never undoes memory. */
  #writeCache(w: ViewWrite): void {
    try {
      this.db.write(w);
      this.cacheOk = true;
    } catch (e) {
      this.#cacheFailed(e as Error);
    }
  }

  #cacheFailed(e: Error): void {
    this.cacheOk = false;
    this.onCacheError(e);
  }

  userCaKeyLines: string[] = [];

  #setCaKeys(lines: string[]): void {
    const blobs = lines.map((l) => parseAuthorizedKeyLine(l).blob);
    this.userCaKeyLines = lines;
    this.userCaKeys = blobs;
  }

  #put(r: Resource): void {
    switch (r.kind) {
      case "role": this.roles.set(r.name, r); break;
      case "user": this.users.set(r.name, r); break;
      case "lock": this.locks.put(r); break;
      case "cluster_config": this.clusterConfig = r; break;
    }
  }

  #delete(kind: string, name: string): void {
    if (kind === "role") this.roles.delete(name);
    else if (kind === "user") this.users.delete(name);
    else if (kind === "lock") this.locks.remove(name);
    else if (kind === "cluster_config") this.clusterConfig = DEFAULT_CLUSTER_CONFIG;
  }

  #commit(rev: number, revHash: string, at: Date): void {
    this.rev = rev;
    this.revHash = revHash;
    this.lastSyncedAt = at;
    for (const fn of this.#listeners) fn();
  }
}

function decode(obj: unknown): Resource {
  if (typeof obj !== "object" || obj === null) throw new Error("feed: resource is not an object");
  return parseResource(obj, "feed", { now: EPOCH });
}
