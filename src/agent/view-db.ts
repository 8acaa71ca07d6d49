// The agent's SQLite cache (<data_dir>/agent.db): the last synced resources, user CA
// keys, revision and last_synced_at, so the agent can enforce locks with no auth service.
import type { Database } from "bun:sqlite";
import { openSqliteFile } from "../platform/sqlite-file.ts";

export interface StoredView {
  rev: number;
  /** The feed's history hash at `rev` ("" before any sync or in a cache from before hashes). */
  revHash: string;
  lastSyncedAt?: Date;
  userCaKeys: string[];
  resources: Record<string, unknown>[];
}

export interface ViewWrite {
  rev: number;
  revHash: string;
  userCaKeys: string[];
  /** When set, the table is emptied first (a snapshot). */
  replace: boolean;
  puts: { kind: string; name: string; data: Record<string, unknown> }[];
  deletes: { kind: string; name: string }[];
  syncedAt: Date;
}

export class ViewDb {
  readonly db: Database;

  /** True when agent.db was there but empty (truncated): cache and outbox start anew. */
  readonly emptied: boolean;

  constructor(path: string) {
    const { db, notice } = openSqliteFile(path, `PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS view_resources (kind TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, name));
      CREATE TABLE IF NOT EXISTS view_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`);
    this.db = db;
    this.emptied = notice.emptied;
    this.path = path;
  }

  readonly path: string;

  /** The stored view; a damaged file is named in the error. */
  load(): StoredView {
    try {
      return this.#load();
    } catch (e) {
      throw new Error(`${this.path}: ${(e as Error).message}`);
    }
  }

  #load(): StoredView {
    const meta = new Map(this.db.query<{ key: string; value: string }, []>("SELECT key, value FROM view_meta").all().map((r) => [r.key, r.value]));
    const synced = meta.get("last_synced_at");
    return {
      rev: Number(meta.get("rev") ?? "0"),
      revHash: meta.get("rev_hash") ?? "",
      lastSyncedAt: synced ? new Date(synced) : undefined,
      userCaKeys: JSON.parse(meta.get("user_ca_keys") ?? "[]"),
      resources: this.db.query<{ data: string }, []>("SELECT data FROM view_resources").all().map((r) => JSON.parse(r.data)),
    };
  }

  /** One transaction: the cache is never left half-way between two revisions. */
  write(w: ViewWrite): void {
    this.db.transaction(() => {
      if (w.replace) this.db.exec("DELETE FROM view_resources");
      const put = this.db.query("INSERT OR REPLACE INTO view_resources (kind, name, data) VALUES (?, ?, ?)");
      for (const p of w.puts) put.run(p.kind, p.name, JSON.stringify(p.data));
      const del = this.db.query("DELETE FROM view_resources WHERE kind = ? AND name = ?");
      for (const d of w.deletes) del.run(d.kind, d.name);
      this.#setMeta("rev", String(w.rev));
      this.#setMeta("rev_hash", w.revHash);
      this.#setMeta("user_ca_keys", JSON.stringify(w.userCaKeys));
      this.#setMeta("last_synced_at", w.syncedAt.toISOString());
    })();
  }

  /** The last measured offset of the auth service's clock from ours (ms), so a restart starts with it. */
  clockOffset(): number {
    const v = Number(this.db.query<{ value: string }, [string]>("SELECT value FROM view_meta WHERE key = ?").get("clock_offset_ms")?.value ?? "0");
    return Number.isFinite(v) ? v : 0;
  }

  saveClockOffset(ms: number): void {
    this.#setMeta("clock_offset_ms", String(ms));
  }

  markSynced(at: Date): void {
    this.#setMeta("last_synced_at", at.toISOString());
  }

  close(): void {
    this.db.close();
  }

  #setMeta(key: string, value: string): void {
    this.db.query("INSERT OR REPLACE INTO view_meta (key, value) VALUES (?, ?)").run(key, value);
  }
}
