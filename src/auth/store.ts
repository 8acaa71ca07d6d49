// The auth service's storage contract. SQLite implements it today; PostgreSQL is
// the planned second implementation, and both must pass test/store/store-suite.ts.
import type { Resource, ResourceKind } from "../core/resource-types.ts";
import type { SemaphoreStore } from "./semaphore-store.ts";
import type { SessionInventory } from "./session-inventory.ts";
import type { RecordingStore } from "../recording/recording-store.ts";

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

export interface Store {
  semaphores: SemaphoreStore;
  sessions: SessionInventory;
  recordings: RecordingStore;

  /** Creates or replaces a resource; returns the new revision. */
  putResource(r: Resource): number;
  getResource<K extends ResourceKind>(kind: K, name: string): Extract<Resource, { kind: K }> | undefined;
  listResources<K extends ResourceKind>(kind: K): Extract<Resource, { kind: K }>[];
  /** Returns the new revision, or undefined when there was nothing to delete. */
  deleteResource(kind: ResourceKind, name: string): number | undefined;
  revision(): number;
  /** Changes after `rev`, or undefined when they are no longer kept (the caller sends a snapshot). */
  changesSince(rev: number): Change[] | undefined;
  /**
   * The history hash at `rev` ("" at revision 0), or undefined when that revision is no
   * longer kept. A restored or diverged store answers differently for the same revision.
   */
  historyHash(rev: number): string | undefined;

  addToken(t: TokenRecord): void;
  useToken(hash: string, now: Date): TokenUse;
  listTokens(now: Date): TokenRecord[];

  upsertNode(n: NodeRecord): void;
  getNode(serverId: string): NodeRecord | undefined;
  listNodes(): NodeRecord[];
  touchNode(serverId: string, at: Date, fields: { addr?: string; labels?: Record<string, string> }): void;

  /** Idempotent by uid: returns false when the event was already stored. */
  appendEvent(e: AuditEvent): boolean;
  listEvents(q: EventQuery): (AuditEvent & { seq: number })[];

  /**
   * Records a request token's nonce as used until `expiresAt`; resolves false when it
   * was already recorded and has not expired (a replay). Expired nonces are pruned.
   */
  useNonce(nonce: string, expiresAt: Date, now: Date): Promise<boolean>;

  /** Runs fn as one transaction: all of its writes (across every part of the store) or none. */
  atomically<T>(fn: () => T): T;

  close(): void;
}
