// PostgreSQL implementation of the auth Store (Bun's built-in SQL client, one pool per
// replica). Several replicas share one database: every guarantee holds across them.
// The change feed is gap-free and commit-ordered: each append locks the feed_head row
// until its transaction commits, so revision N+1 cannot commit before N.
import { SQL } from "bun";
import { chainHash, HISTORY_GENESIS } from "../core/feed-history.ts";
import { toExternal } from "../core/resources.ts";
import type { Resource, ResourceKind } from "../core/resource-types.ts";
import { migrate } from "./postgres-schema.ts";
import { PostgresRecordingStore } from "./postgres-recording-store.ts";
import { PostgresSemaphoreStore } from "./postgres-semaphore-store.ts";
import { PostgresSessionInventory } from "./postgres-session-inventory.ts";
import { PostgresConsoleStore } from "./postgres-console-store.ts";
import { PostgresSessionCommandStore } from "./postgres-session-command-store.ts";
import { decodeNode, decodeResource, definedOnly } from "./store-rows.ts";
import type { AuditEvent, Change, EventQuery, FeedSnapshot, NodeRecord, ReplicaRecord, Store, TokenRecord, TokenUse } from "./store.ts";

const KEEP_CHANGES = 10_000;
/** Deadlocks and serialization failures: the transaction is retried from the start. */
const RETRYABLE = new Set(["40001", "40P01"]);
const MAX_ATTEMPTS = 5;
const NONCE_PRUNE_EVERY_MS = 60_000;
/** NOTIFY channel for feed appends: a wake-up for the other replicas' watch hubs. */
const FEED_CHANNEL = "hostward_feed";

export interface PostgresOptions {
  /** Connections in this replica's pool. */
  poolSize?: number;
  /** How long PostgreSQL lets one of our transactions sit idle before ending it (ms). */
  idleInTransactionMs?: number;
}

/**
 * Our transactions are milliseconds of work between statements. One idle far longer
 * belongs to a replica that froze or whose machine vanished mid-transaction: PostgreSQL
 * ends it, so its locks (the feed head, a semaphore key, the admins lock) do not stall
 * every other replica until TCP notices the peer is gone (hours, with default keepalives).
 */
const IDLE_IN_TRANSACTION_MS = 10_000;

export class PostgresStore implements Store {
  readonly semaphores: PostgresSemaphoreStore;
  readonly sessions: PostgresSessionInventory;
  readonly recordings: PostgresRecordingStore;
  readonly console: PostgresConsoleStore;
  readonly commands: PostgresSessionCommandStore;
  #noncePrunedAt = 0;

  /** Connects, applies missing migrations (under an advisory lock) and returns the store. */
  static async open(url: string, opts: PostgresOptions = {}): Promise<PostgresStore> {
    const sql = new SQL(url, {
      max: opts.poolSize ?? 10, idleTimeout: 60, connectionTimeout: 10,
      connection: { idle_in_transaction_session_timeout: opts.idleInTransactionMs ?? IDLE_IN_TRANSACTION_MS },
    });
    try {
      await migrate(sql);
    } catch (e) {
      await sql.close();
      throw e;
    }
    return new PostgresStore(sql, sql);
  }

  /** `q` runs the statements: the pool, or one transaction (then `inTx`). */
  private constructor(readonly pool: SQL, private readonly q: SQL, private readonly inTx = false) {
    this.semaphores = new PostgresSemaphoreStore(q, (fn) => this.#tx(fn));
    this.sessions = new PostgresSessionInventory(q);
    this.recordings = new PostgresRecordingStore(q);
    this.console = new PostgresConsoleStore(q);
    this.commands = new PostgresSessionCommandStore(q, pool);
  }

  putResource(r: Resource): Promise<number> {
    const data = JSON.stringify(toExternal(r));
    return this.#tx(async (q) => {
      const rev = await appendChange(q, "put", r.kind, r.name, data);
      await q`INSERT INTO resources (kind, name, data, rev) VALUES (${r.kind}, ${r.name}, ${data}, ${rev})
        ON CONFLICT (kind, name) DO UPDATE SET data = excluded.data, rev = excluded.rev`;
      return rev;
    });
  }

  async getResource<K extends ResourceKind>(kind: K, name: string): Promise<Extract<Resource, { kind: K }> | undefined> {
    const [row] = await this.q`SELECT data FROM resources WHERE kind = ${kind} AND name = ${name}`;
    return row ? (decodeResource(row.data) as Extract<Resource, { kind: K }>) : undefined;
  }

  async listResources<K extends ResourceKind>(kind: K): Promise<Extract<Resource, { kind: K }>[]> {
    return listKind(this.q, kind) as Promise<Extract<Resource, { kind: K }>[]>;
  }

  deleteResource(kind: ResourceKind, name: string): Promise<number | undefined> {
    return this.#tx(async (q) => {
      const gone = await q`DELETE FROM resources WHERE kind = ${kind} AND name = ${name} RETURNING 1`;
      return gone.length === 0 ? undefined : appendChange(q, "delete", kind, name, null);
    });
  }

  async revision(): Promise<number> {
    const [row] = await this.q`SELECT rev FROM feed_head WHERE id = 1`;
    return Number(row.rev);
  }

  async changesSince(rev: number): Promise<Change[] | undefined> {
    // A revision from the future means the agent followed another store: start over.
    if (rev > (await this.revision())) return undefined;
    const rows = await this.q`SELECT rev, op, kind, name, data, hash FROM changes WHERE rev > ${rev} ORDER BY rev`;
    // Appends commit in revision order, so what we read is a prefix; a first row past
    // rev + 1 means the changes in between were trimmed.
    if (rows.length > 0 && Number(rows[0].rev) !== rev + 1) return undefined;
    return rows.map((c: { rev: string; op: string; kind: string; name: string; data: string | null; hash: string }) => ({
      rev: Number(c.rev), op: c.op as Change["op"], kind: c.kind as ResourceKind, name: c.name,
      ...(c.data ? { resource: JSON.parse(c.data) } : {}), hash: c.hash,
    }));
  }

  async historyHash(rev: number): Promise<string | undefined> {
    if (rev === 0) return HISTORY_GENESIS;
    const [row] = await this.q`SELECT hash FROM changes WHERE rev = ${rev}`;
    return row?.hash;
  }

  feedSnapshot(kinds: readonly ResourceKind[]): Promise<FeedSnapshot> {
    const read = async (q: SQL) => {
      const [head] = await q`SELECT rev, hash FROM feed_head WHERE id = 1`;
      const resources: Resource[] = [];
      for (const k of kinds) resources.push(...(await listKind(q, k)));
      return { rev: Number(head.rev), hash: head.hash as string, resources };
    };
    // One snapshot for the head and every resource, so they describe the same revision.
    return this.inTx ? read(this.q) : this.pool.begin("ISOLATION LEVEL REPEATABLE READ READ ONLY", read);
  }

  async addToken(t: TokenRecord): Promise<void> {
    await this.q`INSERT INTO tokens (hash, expires_at, reusable, created_by, created_at)
      VALUES (${t.hash}, ${t.expiresAt.getTime()}, ${t.reusable}, ${t.createdBy}, ${t.createdAt.getTime()})`;
  }

  async useToken(hash: string, now: Date): Promise<TokenUse> {
    // One statement: concurrent redemptions queue on the row, and only the first still matches.
    const used = await this.q`UPDATE tokens SET used_at = ${now.getTime()}
      WHERE hash = ${hash} AND expires_at > ${now.getTime()} AND (reusable OR used_at IS NULL) RETURNING 1`;
    if (used.length === 1) return { ok: true };
    const [row] = await this.q`SELECT expires_at FROM tokens WHERE hash = ${hash}`;
    if (!row) return { ok: false, reason: "unknown" };
    return { ok: false, reason: Number(row.expires_at) <= now.getTime() ? "expired" : "used" };
  }

  async listTokens(now: Date): Promise<TokenRecord[]> {
    const rows = await this.q`SELECT * FROM tokens WHERE expires_at > ${now.getTime()} AND (reusable OR used_at IS NULL) ORDER BY created_at`;
    return rows.map((r: { hash: string; expires_at: string; reusable: boolean; created_by: string; created_at: string }) => ({
      hash: r.hash, expiresAt: new Date(Number(r.expires_at)), reusable: r.reusable, createdBy: r.created_by, createdAt: new Date(Number(r.created_at)),
    }));
  }

  async upsertNode(n: NodeRecord): Promise<void> {
    const data = JSON.stringify(n);
    await this.q`INSERT INTO nodes (server_id, data) VALUES (${n.serverId}, ${data}::text::jsonb) ON CONFLICT (server_id) DO UPDATE SET data = excluded.data`;
  }

  async getNode(serverId: string): Promise<NodeRecord | undefined> {
    const [row] = await this.q`SELECT data::text AS data FROM nodes WHERE server_id = ${serverId}`;
    return row ? decodeNode(row.data) : undefined;
  }

  async listNodes(): Promise<NodeRecord[]> {
    return (await this.q`SELECT data::text AS data FROM nodes ORDER BY server_id`).map((r: { data: string }) => decodeNode(r.data));
  }

  async touchNode(serverId: string, at: Date, fields: { addr?: string; labels?: Record<string, string> }): Promise<void> {
    // A merge in one statement: a heartbeat never overwrites a concurrent re-join.
    const patch = JSON.stringify({ ...definedOnly(fields), lastSeen: at });
    await this.q`UPDATE nodes SET data = data || ${patch}::text::jsonb WHERE server_id = ${serverId}`;
  }

  async appendEvent(e: AuditEvent): Promise<boolean> {
    const user = typeof e.user === "string" ? e.user : null;
    const rows = await this.q`INSERT INTO events (uid, time, event, "user", data) VALUES (${e.uid}, ${e.time}, ${e.event}, ${user}, ${JSON.stringify(e)})
      ON CONFLICT (uid) DO NOTHING RETURNING seq`;
    return rows.length === 1;
  }

  async listEvents(q: EventQuery): Promise<(AuditEvent & { seq: number })[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const arg = (v: string | number) => (args.push(v), `$${args.length}`);
    if (q.type) where.push(`event = ${arg(q.type)}`);
    if (q.user) where.push(`"user" = ${arg(q.user)}`);
    if (q.since) where.push(`time >= ${arg(q.since.toISOString())}`);
    if (q.before !== undefined) {
      // Newest first by event time (an agent cut off for a while delivers old events late); seq breaks ties.
      const b = arg(q.before);
      where.push(`(time, seq) < (SELECT time, seq FROM events WHERE seq = ${b})`);
    }
    const text = `SELECT seq, data FROM events ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY time DESC, seq DESC LIMIT ${arg(q.limit)}`;
    const rows = await this.q.unsafe(text, args);
    return rows.map((r: { seq: string; data: string }) => ({ ...(JSON.parse(r.data) as AuditEvent), seq: Number(r.seq) }));
  }

  async useNonce(nonce: string, expiresAt: Date, now: Date): Promise<boolean> {
    const t = now.getTime();
    if (t - this.#noncePrunedAt >= NONCE_PRUNE_EVERY_MS) {
      this.#noncePrunedAt = t;
      await this.q`DELETE FROM used_nonces WHERE expires_at < ${t}`;
    }
    // One statement: two replicas seeing the same token race on the row, one wins.
    const rows = await this.q`INSERT INTO used_nonces (nonce, expires_at) VALUES (${nonce}, ${expiresAt.getTime()})
      ON CONFLICT (nonce) DO UPDATE SET expires_at = excluded.expires_at WHERE used_nonces.expires_at < ${t} RETURNING 1`;
    return rows.length === 1;
  }

  async clusterSecrets(): Promise<Record<string, string> | undefined> {
    const rows = await this.q`SELECT name, data FROM cluster_secrets`;
    return rows.length ? Object.fromEntries(rows.map((r: { name: string; data: string }) => [r.name, r.data])) : undefined;
  }

  offerClusterSecrets(secrets: Record<string, string>): Promise<Record<string, string>> {
    return this.#tx(async (q) => {
      // Replicas starting together: one offer is stored whole, the others read it.
      await q`SELECT pg_advisory_xact_lock(hashtextextended('cluster_secrets', 0))`;
      const rows = await q`SELECT name, data FROM cluster_secrets`;
      if (rows.length) return Object.fromEntries(rows.map((r: { name: string; data: string }) => [r.name, r.data]));
      for (const [name, data] of Object.entries(secrets)) await q`INSERT INTO cluster_secrets (name, data) VALUES (${name}, ${data})`;
      return secrets;
    });
  }

  async heartbeatReplica(id: string, addr: string, now: Date): Promise<void> {
    await this.q`INSERT INTO replicas (id, addr, started_at, seen_at) VALUES (${id}, ${addr}, ${now.getTime()}, ${now.getTime()})
      ON CONFLICT (id) DO UPDATE SET addr = excluded.addr, seen_at = excluded.seen_at`;
  }

  async liveReplicas(since: Date): Promise<ReplicaRecord[]> {
    const rows = await this.q`SELECT * FROM replicas WHERE seen_at >= ${since.getTime()} ORDER BY seen_at DESC`;
    return rows.map((r: { id: string; addr: string; started_at: string; seen_at: string }) =>
      ({ id: r.id, addr: r.addr, startedAt: new Date(Number(r.started_at)), seenAt: new Date(Number(r.seen_at)) }));
  }

  async removeReplica(id: string): Promise<void> {
    await this.q`DELETE FROM replicas WHERE id = ${id}`;
  }

  async onFeedWrite(wake: () => void): Promise<() => Promise<void>> {
    // Bun keeps one listening connection and re-subscribes after a drop; onlisten runs
    // then too, so a change made while we were deaf is read at once.
    const sub = await this.pool.listen(FEED_CHANNEL, () => wake(), () => wake());
    return () => sub.unlisten();
  }

  atomically<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    return this.#tx((q) => fn(q === this.q ? this : new PostgresStore(this.pool, q, true)));
  }

  async lock(name: string): Promise<void> {
    if (!this.inTx) throw new Error("store.lock is for use inside atomically");
    await this.q`SELECT pg_advisory_xact_lock(hashtextextended(${name}, 0))`;
  }

  async close(): Promise<void> {
    if (!this.inTx) await this.pool.close({ timeout: 5 });
  }

  /** Runs fn in a transaction: this one when inside one, else a new one, retried on deadlock. */
  async #tx<T>(fn: (q: SQL) => Promise<T>): Promise<T> {
    if (this.inTx) return fn(this.q);
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.pool.begin((tx) => fn(tx))) as T;
      } catch (e) {
        if (attempt >= MAX_ATTEMPTS || !RETRYABLE.has(String((e as { errno?: string }).errno ?? (e as { code?: string }).code))) throw e;
      }
    }
  }
}

/** Appends to the feed under the head row's lock (held to commit): revisions commit in order. */
async function appendChange(q: SQL, op: Change["op"], kind: string, name: string, data: string | null): Promise<number> {
  const [head] = await q`UPDATE feed_head SET rev = rev + 1 WHERE id = 1 RETURNING rev, hash`;
  const rev = Number(head.rev);
  const hash = chainHash(head.hash, { rev, op, kind, name, data });
  await q`UPDATE feed_head SET hash = ${hash} WHERE id = 1`;
  await q`INSERT INTO changes (rev, op, kind, name, data, hash) VALUES (${rev}, ${op}, ${kind}, ${name}, ${data}, ${hash})`;
  if (rev % 1000 === 0) await q`DELETE FROM changes WHERE rev <= ${rev - KEEP_CHANGES}`;
  // Delivered at commit, to every replica listening (this one included).
  await q`SELECT pg_notify(${FEED_CHANNEL}, ${String(rev)})`;
  return rev;
}

async function listKind(q: SQL, kind: ResourceKind): Promise<Resource[]> {
  return (await q`SELECT data FROM resources WHERE kind = ${kind} ORDER BY name`).map((r: { data: string }) => decodeResource(r.data));
}



