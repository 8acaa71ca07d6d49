// The auth service's storage contract, asynchronous so that a networked database can
// implement it. SQLite and PostgreSQL implement it; both pass test/store/store-suite.ts.
import type { Resource, ResourceKind } from "../core/resource-types.ts";
import type { SemaphoreStore } from "./semaphore-store.ts";
import type { SessionInventory } from "./session-inventory.ts";
import type { RecordingStore } from "./recording/recording-store.ts";
import type { ConsoleStore } from "./console-store.ts";
import type { SessionCommandStore } from "./session-command-store.ts";

/** One entry of the change feed that agents follow. */
export interface Change {
  rev: number;
  op: "put" | "delete";
  kind: ResourceKind;
  name: string;
  /** External (snake_case) form of the resource; absent for deletes. */
  resource?: Record<string, unknown>;
  /** History hash after this change (src/core/feed-history.ts): chained over every change before it. */
  hash: string;
}

export interface TokenRecord {
  hash: string;
  expiresAt: Date;
  reusable: boolean;
  createdBy: string;
  createdAt: Date;
}

export type TokenUse = { ok: true } | { ok: false; reason: "unknown" | "expired" | "used" };

export interface NodeRecord {
  serverId: string;
  hostname: string;
  addr: string;
  labels: Record<string, string>;
  /** OpenSSH public key line the node signs its API requests with. */
  identityKey: string;
  hostKey: string;
  joinedAt: Date;
  lastSeen: Date;
  version: string;
}

export interface AuditEvent {
  uid: string;
  event: string;
  code: string;
  time: string;
  [field: string]: unknown;
}

export interface EventQuery {
  type?: string;
  user?: string;
  since?: Date;
  limit: number;
  /** The next page: events after the one with this seq, in newest-first (time, seq) order. */
  before?: number;
}

/** A running auth service sharing this store. */
export interface ReplicaRecord {
  id: string;
  addr: string;
  startedAt: Date;
  seenAt: Date;
}

/** A consistent view of the feed's resources at one revision (what a new watcher starts from). */
export interface FeedSnapshot {
  rev: number;
  hash: string;
  resources: Resource[];
}

export interface Store {
  semaphores: SemaphoreStore;
  sessions: SessionInventory;
  recordings: RecordingStore;
  /** The web console's sign-in links and browser sessions (every replica sees the same). */
  console: ConsoleStore;
  /** Commands for a node's agent, delivered by the replica that holds its feed. */
  commands: SessionCommandStore;

  /** Creates or replaces a resource; returns the new revision. */
  putResource(r: Resource): Promise<number>;
  getResource<K extends ResourceKind>(kind: K, name: string): Promise<Extract<Resource, { kind: K }> | undefined>;
  listResources<K extends ResourceKind>(kind: K): Promise<Extract<Resource, { kind: K }>[]>;
  /** Returns the new revision, or undefined when there was nothing to delete. */
  deleteResource(kind: ResourceKind, name: string): Promise<number | undefined>;
  revision(): Promise<number>;
  /**
   * Changes after `rev` in revision order, without gaps: a reader never sees revision
   * N+1 before N. Undefined when they are no longer kept (the caller sends a snapshot).
   */
  changesSince(rev: number): Promise<Change[] | undefined>;
  /**
   * The history hash at `rev` ("" at revision 0), or undefined when that revision is no
   * longer kept. A restored or diverged store answers differently for the same revision.
   */
  historyHash(rev: number): Promise<string | undefined>;
  /** The resources of `kinds`, the revision they are at and its history hash, read as one snapshot. */
  feedSnapshot(kinds: readonly ResourceKind[]): Promise<FeedSnapshot>;

  addToken(t: TokenRecord): Promise<void>;
  /** Single use holds under concurrent redemption: exactly one caller gets ok. */
  useToken(hash: string, now: Date): Promise<TokenUse>;
  listTokens(now: Date): Promise<TokenRecord[]>;

  upsertNode(n: NodeRecord): Promise<void>;
  getNode(serverId: string): Promise<NodeRecord | undefined>;
  listNodes(): Promise<NodeRecord[]>;
  touchNode(serverId: string, at: Date, fields: { addr?: string; labels?: Record<string, string> }): Promise<void>;

  /** Idempotent by uid: returns false when the event was already stored. */
  appendEvent(e: AuditEvent): Promise<boolean>;
  listEvents(q: EventQuery): Promise<(AuditEvent & { seq: number })[]>;

  /**
   * Records a request token's nonce as used until `expiresAt`; resolves false when it
   * was already recorded and has not expired (a replay). Expired nonces are pruned.
   */
  useNonce(nonce: string, expiresAt: Date, now: Date): Promise<boolean>;

  /**
   * The CA keys and certificates every replica shares (file name under the data dir →
   * contents), or undefined before the first replica offered its own.
   */
  clusterSecrets(): Promise<Record<string, string> | undefined>;
  /** Stores `secrets` unless some are stored already; returns what is stored (the first offer wins). */
  offerClusterSecrets(secrets: Record<string, string>): Promise<Record<string, string>>;

  /** Records that replica `id` (listening at `addr`) is alive at `now`. */
  heartbeatReplica(id: string, addr: string, now: Date): Promise<void>;
  /** Replicas seen since `since`, newest first. */
  liveReplicas(since: Date): Promise<ReplicaRecord[]>;
  /** This replica is stopping: forget it. */
  removeReplica(id: string): Promise<void>;

  /**
   * Calls `wake` whenever another writer may have appended to the change feed (and once
   * after each reconnect); returns the function that stops it. The changes table stays
   * the truth: a wake-up only says "read it now".
   */
  onFeedWrite(wake: () => void): Promise<() => Promise<void>>;

  /**
   * Runs fn as one transaction on `tx` (a view of this store): all of its writes, across
   * every part of the store, or none. Inside fn use only `tx`, never this store (SQLite
   * would wait for itself). A nested call joins the outer transaction.
   */
  atomically<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  /**
   * Inside atomically: holds the named exclusive lock until the transaction ends, so
   * check-then-write sequences (the last-admin guard) do not race between replicas.
   */
  lock(name: string): Promise<void>;

  close(): Promise<void>;
}
