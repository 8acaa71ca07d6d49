// SQLite implementation of the auth Store (bun:sqlite, WAL, one file under the data dir).
// Resources are kept in their external form so the change feed can ship them as they are.
import type { Database } from "bun:sqlite";
import { parseResource, toExternal } from "../core/resources.ts";
import type { Resource, ResourceKind } from "../core/resource-types.ts";
import { chainHash, HISTORY_GENESIS } from "../core/feed-history.ts";
import { openSqliteFile } from "../platform/sqlite-file.ts";
import type { AuditEvent, Change, EventQuery, NodeRecord, Store, TokenRecord, TokenUse } from "./store.ts";
import { SqliteSemaphoreStore } from "./sqlite-semaphore-store.ts";
import { SqliteSessionInventory } from "./sqlite-session-inventory.ts";
import { SqliteRecordingStore } from "./sqlite-recording-store.ts";

const KEEP_CHANGES = 10_000;
const NONCE_PRUNE_EVERY_MS = 5_000;
// Stored resources were validated when written; decoding them with the epoch as
// "now" keeps a lock whose expiry has since passed readable (it simply stops matching).
const EPOCH = new Date(0);

const SCHEMA = `
CREATE TABLE IF NOT EXISTS resources (kind TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL, rev INTEGER NOT NULL, PRIMARY KEY (kind, name));
CREATE TABLE IF NOT EXISTS changes (rev INTEGER PRIMARY KEY AUTOINCREMENT, op TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, data TEXT, hash TEXT);
CREATE TABLE IF NOT EXISTS tokens (hash TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, reusable INTEGER NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL, used_at INTEGER);
CREATE TABLE IF NOT EXISTS nodes (server_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, uid TEXT NOT NULL UNIQUE, time TEXT NOT NULL, event TEXT NOT NULL, user TEXT, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_time ON events (time);
CREATE TABLE IF NOT EXISTS used_nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS used_nonces_expiry ON used_nonces (expires_at);
`;

export class SqliteStore implements Store {
  readonly #db: Database;
  readonly semaphores: SqliteSemaphoreStore;
  readonly sessions: SqliteSessionInventory;
  readonly recordings: SqliteRecordingStore;
  #noncePrunedAt = 0;

  constructor(path: string) {
    this.#db = openSqliteFile(path, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;").db;
    this.#db.exec(SCHEMA);
    this.#chainHistory();
    this.semaphores = new SqliteSemaphoreStore(this.#db);
    this.sessions = new SqliteSessionInventory(this.#db);
    this.recordings = new SqliteRecordingStore(this.#db);
  }

  putResource(r: Resource): number {
    const data = JSON.stringify(toExternal(r));
    return this.#db.transaction(() => {
      const rev = this.#logChange("put", r.kind, r.name, data);
      this.#db.query("INSERT OR REPLACE INTO resources (kind, name, data, rev) VALUES (?, ?, ?, ?)").run(r.kind, r.name, data, rev);
      return rev;
    })();
  }

  getResource<K extends ResourceKind>(kind: K, name: string) {
    const row = this.#db.query<{ data: string }, [string, string]>("SELECT data FROM resources WHERE kind = ? AND name = ?").get(kind, name);
    return row ? (decode(row.data) as Extract<Resource, { kind: K }>) : undefined;
  }

  listResources<K extends ResourceKind>(kind: K) {
    return this.#db.query<{ data: string }, [string]>("SELECT data FROM resources WHERE kind = ? ORDER BY name").all(kind)
      .map((row) => decode(row.data) as Extract<Resource, { kind: K }>);
  }

  deleteResource(kind: ResourceKind, name: string): number | undefined {
    return this.#db.transaction(() => {
      const res = this.#db.query("DELETE FROM resources WHERE kind = ? AND name = ?").run(kind, name);
      return res.changes === 0 ? undefined : this.#logChange("delete", kind, name, null);
    })();
  }

  revision(): number {
    return this.#db.query<{ rev: number | null }, []>("SELECT MAX(rev) AS rev FROM changes").get()?.rev ?? 0;
  }

  changesSince(rev: number): Change[] | undefined {
    const current = this.revision();
    // A revision from the future means the agent followed another store: start over.
    if (rev > current) return undefined;
    const oldest = this.#db.query<{ rev: number | null }, []>("SELECT MIN(rev) AS rev FROM changes").get()?.rev ?? null;
    if (rev < current && (oldest === null || rev < oldest - 1)) return undefined;
    return this.#db.query<{ rev: number; op: string; kind: string; name: string; data: string | null; hash: string }, [number]>(
      "SELECT rev, op, kind, name, data, hash FROM changes WHERE rev > ? ORDER BY rev").all(rev)
      .map((c) => ({ rev: c.rev, op: c.op as Change["op"], kind: c.kind as ResourceKind, name: c.name, ...(c.data ? { resource: JSON.parse(c.data) } : {}), hash: c.hash }));
  }

  historyHash(rev: number): string | undefined {
    if (rev === 0) return HISTORY_GENESIS;
    return this.#db.query<{ hash: string }, [number]>("SELECT hash FROM changes WHERE rev = ?").get(rev)?.hash;
  }

  addToken(t: TokenRecord): void {
    this.#db.query("INSERT INTO tokens (hash, expires_at, reusable, created_by, created_at) VALUES (?, ?, ?, ?, ?)")
      .run(t.hash, t.expiresAt.getTime(), t.reusable ? 1 : 0, t.createdBy, t.createdAt.getTime());
  }

  useToken(hash: string, now: Date): TokenUse {
    return this.#db.transaction((): TokenUse => {
      const row = this.#db.query<{ expires_at: number; reusable: number; used_at: number | null }, [string]>(
        "SELECT expires_at, reusable, used_at FROM tokens WHERE hash = ?").get(hash);
      if (!row) return { ok: false, reason: "unknown" };
      if (row.expires_at <= now.getTime()) return { ok: false, reason: "expired" };
      if (!row.reusable && row.used_at !== null) return { ok: false, reason: "used" };
      this.#db.query("UPDATE tokens SET used_at = ? WHERE hash = ?").run(now.getTime(), hash);
      return { ok: true };
    })();
  }

  listTokens(now: Date): TokenRecord[] {
    return this.#db.query<{ hash: string; expires_at: number; reusable: number; created_by: string; created_at: number }, [number]>(
      "SELECT * FROM tokens WHERE expires_at > ? AND (reusable = 1 OR used_at IS NULL) ORDER BY created_at").all(now.getTime())
      .map((r) => ({ hash: r.hash, expiresAt: new Date(r.expires_at), reusable: r.reusable === 1, createdBy: r.created_by, createdAt: new Date(r.created_at) }));
  }

  upsertNode(n: NodeRecord): void {
    this.#db.query("INSERT OR REPLACE INTO nodes (server_id, data) VALUES (?, ?)").run(n.serverId, JSON.stringify(n));
  }

  getNode(serverId: string): NodeRecord | undefined {
    const row = this.#db.query<{ data: string }, [string]>("SELECT data FROM nodes WHERE server_id = ?").get(serverId);
    return row ? decodeNode(row.data) : undefined;
  }

  listNodes(): NodeRecord[] {
    return this.#db.query<{ data: string }, []>("SELECT data FROM nodes ORDER BY server_id").all().map((r) => decodeNode(r.data));
  }

  touchNode(serverId: string, at: Date, fields: { addr?: string; labels?: Record<string, string> }): void {
    const n = this.getNode(serverId);
    if (n) this.upsertNode({ ...n, ...definedOnly(fields), lastSeen: at });
  }

  appendEvent(e: AuditEvent): boolean {
    const res = this.#db.query("INSERT OR IGNORE INTO events (uid, time, event, user, data) VALUES (?, ?, ?, ?, ?)")
      .run(e.uid, e.time, e.event, typeof e.user === "string" ? e.user : null, JSON.stringify(e));
    return res.changes === 1;
  }

  listEvents(q: EventQuery): (AuditEvent & { seq: number })[] {
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
  }

  async useNonce(nonce: string, expiresAt: Date, now: Date): Promise<boolean> {
    const t = now.getTime();
    if (t - this.#noncePrunedAt >= NONCE_PRUNE_EVERY_MS) {
      this.#noncePrunedAt = t;
      this.#db.query("DELETE FROM used_nonces WHERE expires_at < ?").run(t);
    }
    // An expired row for the same nonce is replaced: it no longer proves anything.
    const res = this.#db.query("INSERT INTO used_nonces (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce) DO UPDATE SET expires_at = excluded.expires_at WHERE used_nonces.expires_at < ?")
      .run(nonce, expiresAt.getTime(), t);
    return res.changes === 1;
  }

  atomically<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }

  close(): void {
    this.#db.close();
  }

  #logChange(op: Change["op"], kind: string, name: string, data: string | null): number {
    const prev = this.#db.query<{ hash: string }, []>("SELECT hash FROM changes ORDER BY rev DESC LIMIT 1").get()?.hash ?? HISTORY_GENESIS;
    const res = this.#db.query("INSERT INTO changes (op, kind, name, data, hash) VALUES (?, ?, ?, ?, '')").run(op, kind, name, data);
    const rev = Number(res.lastInsertRowid);
    this.#db.query("UPDATE changes SET hash = ? WHERE rev = ?").run(chainHash(prev, { rev, op, kind, name, data }), rev);
    if (rev % 1000 === 0) this.#db.query("DELETE FROM changes WHERE rev <= ?").run(rev - KEEP_CHANGES);
    return rev;
  }

  /** A store from before history hashes: chain the changes it kept, oldest first. */
  #chainHistory(): void {
    const cols = this.#db.query<{ name: string }, []>("PRAGMA table_info(changes)").all();
    if (!cols.some((c) => c.name === "hash")) this.#db.exec("ALTER TABLE changes ADD COLUMN hash TEXT");
    const rows = this.#db.query<{ rev: number; op: string; kind: string; name: string; data: string | null }, []>(
      "SELECT rev, op, kind, name, data FROM changes WHERE hash IS NULL ORDER BY rev").all();
    if (rows.length === 0) return;
    this.#db.transaction(() => {
      let prev = HISTORY_GENESIS;
      for (const r of rows) {
        prev = chainHash(prev, r);
        this.#db.query("UPDATE changes SET hash = ? WHERE rev = ?").run(prev, r.rev);
      }
    })();
  }
}

function decode(data: string): Resource {
  return parseResource(JSON.parse(data), "store", { now: EPOCH });
}

function decodeNode(data: string): NodeRecord {
  const n = JSON.parse(data);
  return { ...n, joinedAt: new Date(n.joinedAt), lastSeen: new Date(n.lastSeen) };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
