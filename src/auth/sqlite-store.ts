// SQLite implementation of the auth Store (bun:sqlite, WAL, one file under the data dir).
// Resources are kept in their external form so the change feed can ship them as they are.
// One connection: a transaction holds the store's mutex until it ends, so statements
// from other requests wait instead of landing inside it.
import { Database } from "bun:sqlite";
import { toExternal } from "../core/resources.ts";
import type { Resource, ResourceKind } from "../core/resource-types.ts";
import { AsyncMutex } from "../core/async-mutex.ts";
import { chainHash, HISTORY_GENESIS } from "../core/feed-history.ts";
import { openSqliteFile } from "../platform/sqlite-file.ts";
import { decodeNode, decodeResource, definedOnly } from "./store-rows.ts";
import type { AuditEvent, Change, EventQuery, FeedSnapshot, NodeRecord, ReplicaRecord, Store, TokenRecord, TokenUse } from "./store.ts";
import { direct, type SqliteGate } from "./sqlite-gate.ts";
import { SqliteSemaphoreStore } from "./sqlite-semaphore-store.ts";
import { SqliteSessionInventory } from "./sqlite-session-inventory.ts";
import { SqliteRecordingStore } from "./sqlite-recording-store.ts";
import { SqliteConsoleStore } from "./sqlite-console-store.ts";
import { SqliteSessionCommandStore } from "./sqlite-session-command-store.ts";
import { migrateSqlite } from "./sqlite-schema.ts";

const KEEP_CHANGES = 10_000;
const NONCE_PRUNE_EVERY_MS = 5_000;
const SCHEMA = `
CREATE TABLE IF NOT EXISTS resources (kind TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL, rev INTEGER NOT NULL, PRIMARY KEY (kind, name));
CREATE TABLE IF NOT EXISTS changes (rev INTEGER PRIMARY KEY AUTOINCREMENT, op TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, data TEXT, hash TEXT);
CREATE TABLE IF NOT EXISTS tokens (hash TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, reusable INTEGER NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL, used_at INTEGER);
CREATE TABLE IF NOT EXISTS nodes (server_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, uid TEXT NOT NULL UNIQUE, time TEXT NOT NULL, event TEXT NOT NULL, user TEXT, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_time ON events (time);
CREATE TABLE IF NOT EXISTS cluster_secrets (name TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS replicas (id TEXT PRIMARY KEY, addr TEXT NOT NULL, started_at INTEGER NOT NULL, seen_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS used_nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS used_nonces_expiry ON used_nonces (expires_at);
`;

export class SqliteStore implements Store {
  readonly #db: Database;
  readonly #gate: SqliteGate;
  readonly #mutex?: AsyncMutex;
  readonly semaphores: SqliteSemaphoreStore;
  readonly sessions: SqliteSessionInventory;
  readonly recordings: SqliteRecordingStore;
  readonly console: SqliteConsoleStore;
  readonly commands: SqliteSessionCommandStore;
  #noncePrunedAt = 0;

  /** Opens (creating when missing) the database at `path`; `:memory:` for tests. */
  static open(path: string): SqliteStore {
    const pragmas = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;";
    const db = path === ":memory:" ? new Database(path, { strict: true }) : openSqliteFile(path, pragmas).db;
    if (path === ":memory:") db.exec(pragmas);
    db.exec(SCHEMA);
    chainHistory(db);
    SqliteSemaphoreStore.migrate(db);
    SqliteSessionInventory.migrate(db);
    SqliteRecordingStore.migrate(db);
    migrateSqlite(db);
    return new SqliteStore(db, new AsyncMutex());
  }

  /** The whole store (with a mutex) or a transaction's view of it (without). */
  private constructor(db: Database, mutex?: AsyncMutex) {
    this.#db = db;
    this.#mutex = mutex;
    this.#gate = mutex ? (fn) => mutex.runSync(fn) : direct;
    this.semaphores = new SqliteSemaphoreStore(db, this.#gate);
    this.sessions = new SqliteSessionInventory(db, this.#gate);
    this.recordings = new SqliteRecordingStore(db, this.#gate);
    this.console = new SqliteConsoleStore(db, this.#gate);
    this.commands = new SqliteSessionCommandStore(db, this.#gate);
  }

  putResource(r: Resource): Promise<number> {
    return this.#gate(() => {
      const data = JSON.stringify(toExternal(r));
      return this.#db.transaction(() => {
        const rev = this.#logChange("put", r.kind, r.name, data);
        this.#db.query("INSERT OR REPLACE INTO resources (kind, name, data, rev) VALUES (?, ?, ?, ?)").run(r.kind, r.name, data, rev);
        return rev;
      })();
    });
  }

  getResource<K extends ResourceKind>(kind: K, name: string): Promise<Extract<Resource, { kind: K }> | undefined> {
    return this.#gate(() => {
      const row = this.#db.query<{ data: string }, [string, string]>("SELECT data FROM resources WHERE kind = ? AND name = ?").get(kind, name);
      return row ? (decodeResource(row.data) as Extract<Resource, { kind: K }>) : undefined;
    });
  }

  listResources<K extends ResourceKind>(kind: K): Promise<Extract<Resource, { kind: K }>[]> {
    return this.#gate(() => this.#list(kind));
  }

  #list<K extends ResourceKind>(kind: K): Extract<Resource, { kind: K }>[] {
    return this.#db.query<{ data: string }, [string]>("SELECT data FROM resources WHERE kind = ? ORDER BY name").all(kind)
      .map((row) => decodeResource(row.data) as Extract<Resource, { kind: K }>);
  }

  deleteResource(kind: ResourceKind, name: string): Promise<number | undefined> {
    return this.#gate(() => {
      return this.#db.transaction(() => {
        const res = this.#db.query("DELETE FROM resources WHERE kind = ? AND name = ?").run(kind, name);
        return res.changes === 0 ? undefined : this.#logChange("delete", kind, name, null);
      })();
    });
  }

  revision(): Promise<number> {
    return this.#gate(() => this.#revision());
  }

  #revision(): number {
    return this.#db.query<{ rev: number | null }, []>("SELECT MAX(rev) AS rev FROM changes").get()?.rev ?? 0;
  }

  changesSince(rev: number): Promise<Change[] | undefined> {
    return this.#gate(() => this.#changesSince(rev));
  }

  feedSnapshot(kinds: readonly ResourceKind[]): Promise<FeedSnapshot> {
    return this.#gate(() => {
      const rev = this.#revision();
      return { rev, hash: this.#historyHash(rev) ?? "", resources: kinds.flatMap((k) => this.#list(k)) };
    });
  }

  #changesSince(rev: number): Change[] | undefined {
    const current = this.#revision();
    // A revision from the future means the agent followed another store: start over.
    if (rev > current) return undefined;
    const oldest = this.#db.query<{ rev: number | null }, []>("SELECT MIN(rev) AS rev FROM changes").get()?.rev ?? null;
    if (rev < current && (oldest === null || rev < oldest - 1)) return undefined;
    return this.#db.query<{ rev: number; op: string; kind: string; name: string; data: string | null; hash: string }, [number]>(
      "SELECT rev, op, kind, name, data, hash FROM changes WHERE rev > ? ORDER BY rev").all(rev)
      .map((c) => ({ rev: c.rev, op: c.op as Change["op"], kind: c.kind as ResourceKind, name: c.name, ...(c.data ? { resource: JSON.parse(c.data) } : {}), hash: c.hash }));
  }

  historyHash(rev: number): Promise<string | undefined> {
    return this.#gate(() => this.#historyHash(rev));
  }

  #historyHash(rev: number): string | undefined {
    if (rev === 0) return HISTORY_GENESIS;
    return this.#db.query<{ hash: string }, [number]>("SELECT hash FROM changes WHERE rev = ?").get(rev)?.hash;
  }

  addToken(t: TokenRecord): Promise<void> {
    return this.#gate(() => {
      this.#db.query("INSERT INTO tokens (hash, expires_at, reusable, created_by, created_at) VALUES (?, ?, ?, ?, ?)")
        .run(t.hash, t.expiresAt.getTime(), t.reusable ? 1 : 0, t.createdBy, t.createdAt.getTime());
    });
  }

  useToken(hash: string, now: Date): Promise<TokenUse> {
    return this.#gate(() => {
      return this.#db.transaction((): TokenUse => {
        const row = this.#db.query<{ expires_at: number; reusable: number; used_at: number | null }, [string]>(
          "SELECT expires_at, reusable, used_at FROM tokens WHERE hash = ?").get(hash);
        if (!row) return { ok: false, reason: "unknown" };
        if (row.expires_at <= now.getTime()) return { ok: false, reason: "expired" };
        if (!row.reusable && row.used_at !== null) return { ok: false, reason: "used" };
        this.#db.query("UPDATE tokens SET used_at = ? WHERE hash = ?").run(now.getTime(), hash);
        return { ok: true };
      })();
    });
  }

  listTokens(now: Date): Promise<TokenRecord[]> {
    return this.#gate(() => {
      return this.#db.query<{ hash: string; expires_at: number; reusable: number; created_by: string; created_at: number }, [number]>(
        "SELECT * FROM tokens WHERE expires_at > ? AND (reusable = 1 OR used_at IS NULL) ORDER BY created_at").all(now.getTime())
        .map((r) => ({ hash: r.hash, expiresAt: new Date(r.expires_at), reusable: r.reusable === 1, createdBy: r.created_by, createdAt: new Date(r.created_at) }));
    });
  }

  upsertNode(n: NodeRecord): Promise<void> {
    return this.#gate(() => {
      this.#db.query("INSERT OR REPLACE INTO nodes (server_id, data) VALUES (?, ?)").run(n.serverId, JSON.stringify(n));
    });
  }

  getNode(serverId: string): Promise<NodeRecord | undefined> {
    return this.#gate(() => {
      const row = this.#db.query<{ data: string }, [string]>("SELECT data FROM nodes WHERE server_id = ?").get(serverId);
      return row ? decodeNode(row.data) : undefined;
    });
  }

  listNodes(): Promise<NodeRecord[]> {
    return this.#gate(() => {
      return this.#db.query<{ data: string }, []>("SELECT data FROM nodes ORDER BY server_id").all().map((r) => decodeNode(r.data));
    });
  }

  touchNode(serverId: string, at: Date, fields: { addr?: string; labels?: Record<string, string> }): Promise<void> {
    return this.#gate(() => {
      const row = this.#db.query<{ data: string }, [string]>("SELECT data FROM nodes WHERE server_id = ?").get(serverId);
      if (row) this.#db.query("UPDATE nodes SET data = ? WHERE server_id = ?").run(JSON.stringify({ ...decodeNode(row.data), ...definedOnly(fields), lastSeen: at }), serverId);
    });
  }

  appendEvent(e: AuditEvent): Promise<boolean> {
    return this.#gate(() => {
      const res = this.#db.query("INSERT OR IGNORE INTO events (uid, time, event, user, data) VALUES (?, ?, ?, ?, ?)")
        .run(e.uid, e.time, e.event, typeof e.user === "string" ? e.user : null, JSON.stringify(e));
      return res.changes === 1;
    });
  }

  listEvents(q: EventQuery): Promise<(AuditEvent & { seq: number })[]> {
    return this.#gate(() => {
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (q.type) { where.push("event = ?"); args.push(q.type); }
      if (q.user) { where.push("user = ?"); args.push(q.user); }
      if (q.since) { where.push("time >= ?"); args.push(q.since.toISOString()); }
      if (q.before !== undefined) {
        // Newest first by event time (an agent cut off for a while delivers old events late); seq breaks ties.
        where.push("(time < (SELECT time FROM events WHERE seq = ?) OR (time = (SELECT time FROM events WHERE seq = ?) AND seq < ?))");
        args.push(q.before, q.before, q.before);
      }
      const sql = `SELECT seq, data FROM events ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY time DESC, seq DESC LIMIT ?`;
      return this.#db.query<{ seq: number; data: string }, (string | number)[]>(sql).all(...args, q.limit)
        .map((r) => ({ ...(JSON.parse(r.data) as AuditEvent), seq: r.seq }));
    });
  }

  useNonce(nonce: string, expiresAt: Date, now: Date): Promise<boolean> {
    return this.#gate(() => {
      const t = now.getTime();
      if (t - this.#noncePrunedAt >= NONCE_PRUNE_EVERY_MS) {
        this.#noncePrunedAt = t;
        this.#db.query("DELETE FROM used_nonces WHERE expires_at < ?").run(t);
      }
      // An expired row for the same nonce is replaced: it no longer proves anything.
      const res = this.#db.query("INSERT INTO used_nonces (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce) DO UPDATE SET expires_at = excluded.expires_at WHERE used_nonces.expires_at < ?")
        .run(nonce, expiresAt.getTime(), t);
      return res.changes === 1;
    });
  }

  atomically<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (!this.#mutex) return fn(this);
    return this.#mutex.run(async () => {
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        const result = await fn(new SqliteStore(this.#db));
        this.#db.exec("COMMIT");
        return result;
      } catch (e) {
        this.#db.exec("ROLLBACK");
        throw e;
      }
    });
  }

  clusterSecrets(): Promise<Record<string, string> | undefined> {
    return this.#gate(() => this.#secrets());
  }

  offerClusterSecrets(secrets: Record<string, string>): Promise<Record<string, string>> {
    return this.#gate(() => this.#db.transaction(() => {
      const stored = this.#secrets();
      if (stored) return stored;
      for (const [name, data] of Object.entries(secrets)) this.#db.query("INSERT INTO cluster_secrets (name, data) VALUES (?, ?)").run(name, data);
      return secrets;
    })());
  }

  heartbeatReplica(id: string, addr: string, now: Date): Promise<void> {
    return this.#gate(() => {
      this.#db.query("INSERT INTO replicas (id, addr, started_at, seen_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET addr = excluded.addr, seen_at = excluded.seen_at")
        .run(id, addr, now.getTime(), now.getTime());
    });
  }

  liveReplicas(since: Date): Promise<ReplicaRecord[]> {
    return this.#gate(() => this.#db.query<{ id: string; addr: string; started_at: number; seen_at: number }, [number]>(
      "SELECT * FROM replicas WHERE seen_at >= ? ORDER BY seen_at DESC").all(since.getTime())
      .map((r) => ({ id: r.id, addr: r.addr, startedAt: new Date(r.started_at), seenAt: new Date(r.seen_at) })));
  }

  removeReplica(id: string): Promise<void> {
    return this.#gate(() => void this.#db.query("DELETE FROM replicas WHERE id = ?").run(id));
  }

  /** One process writes this file: its own writes wake its hub directly. */
  async onFeedWrite(_wake: () => void): Promise<() => Promise<void>> {
    return async () => {};
  }

  #secrets(): Record<string, string> | undefined {
    const rows = this.#db.query<{ name: string; data: string }, []>("SELECT name, data FROM cluster_secrets").all();
    return rows.length ? Object.fromEntries(rows.map((r) => [r.name, r.data])) : undefined;
  }

  /** One connection, one writer: a transaction already excludes every other. */
  async lock(_name: string): Promise<void> {}

  async close(): Promise<void> {
    await this.#mutex?.run(() => this.#db.close());
  }

  #logChange(op: Change["op"], kind: string, name: string, data: string | null): number {
    const prev = this.#db.query<{ hash: string }, []>("SELECT hash FROM changes ORDER BY rev DESC LIMIT 1").get()?.hash ?? HISTORY_GENESIS;
    const res = this.#db.query("INSERT INTO changes (op, kind, name, data, hash) VALUES (?, ?, ?, ?, '')").run(op, kind, name, data);
    const rev = Number(res.lastInsertRowid);
    this.#db.query("UPDATE changes SET hash = ? WHERE rev = ?").run(chainHash(prev, { rev, op, kind, name, data }), rev);
    if (rev % 1000 === 0) this.#db.query("DELETE FROM changes WHERE rev <= ?").run(rev - KEEP_CHANGES);
    return rev;
  }
}




/** A store from before history hashes: chain the changes it kept, oldest first. */
function chainHistory(db: Database): void {
  const cols = db.query<{ name: string }, []>("PRAGMA table_info(changes)").all();
  if (!cols.some((c) => c.name === "hash")) db.exec("ALTER TABLE changes ADD COLUMN hash TEXT");
  const rows = db.query<{ rev: number; op: string; kind: string; name: string; data: string | null }, []>(
    "SELECT rev, op, kind, name, data FROM changes WHERE hash IS NULL ORDER BY rev").all();
  if (rows.length === 0) return;
  db.transaction(() => {
    let prev = HISTORY_GENESIS;
    for (const r of rows) {
      prev = chainHash(prev, r);
      db.query("UPDATE changes SET hash = ? WHERE rev = ?").run(prev, r.rev);
    }
  })();
}
