// `hostward auth migrate --from sqlite:///…/auth.db --to postgres://…`: copies a SQLite
// cluster into PostgreSQL, row for row, CAs included, so agents keep their pins,
// certificates, identities and feed revision and nobody joins again.
import { Database } from "bun:sqlite";
import type { SQL } from "bun";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { readClusterSecrets } from "./cluster-secrets.ts";
import { PostgresStore } from "./postgres-store.ts";
import { redactUrl } from "./open-store.ts";
import { SqliteStore } from "./sqlite-store.ts";

/** Table → columns copied as they are; `user` is quoted on PostgreSQL, flags become booleans. */
const TABLES: { table: string; cols: string[]; bools?: string[]; json?: string[] }[] = [
  { table: "resources", cols: ["kind", "name", "data", "rev"] },
  { table: "changes", cols: ["rev", "op", "kind", "name", "data", "hash"] },
  { table: "tokens", cols: ["hash", "expires_at", "reusable", "created_by", "created_at", "used_at"], bools: ["reusable"] },
  { table: "nodes", cols: ["server_id", "data"], json: ["data"] },
  { table: "events", cols: ["seq", "uid", "time", "event", "user", "data"] },
  { table: "semaphore_leases", cols: ["key", "holder", "node", "acquired_at", "expires_at"] },
  { table: "sessions", cols: ["id", "state", "node", "user", "login", "kind", "start_at", "end_at", "recorded", "reason", "reason_kind"], bools: ["recorded"] },
  { table: "recordings", cols: ["session_id", "server_id", "user", "state", "started_at", "data"] },
  { table: "used_nonces", cols: ["nonce", "expires_at"] },
  // Signed-in browsers stay signed in (their ids are stored hashed); 60-second sign-in links and pending commands are not worth moving.
  { table: "web_sessions", cols: ["hash", "user", "expires_at", "created_at"] },
];

export async function migrateStore(from: string, to: string, force: boolean): Promise<Record<string, number>> {
  if (!from.startsWith("sqlite://") || !/^postgres(ql)?:\/\//.test(to)) throw new Error("usage: hostward auth migrate --from sqlite:///PATH/auth.db --to postgres://… [--force]");
  const path = decodeURIComponent(from.slice("sqlite://".length));
  if (!existsSync(path)) throw new Error(`${path}: no such SQLite store`);
  await (SqliteStore.open(path)).close(); // brings an older file's schema up to date
  const src = new Database(path, { readonly: true, strict: true });
  const dst = await PostgresStore.open(to, { poolSize: 2 });
  try {
    return await dst.pool.begin(async (tx) => {
      await refuseNonEmpty(tx, force, to);
      const counts: Record<string, number> = {};
      for (const t of TABLES) counts[t.table] = await copyTable(src, tx, t);
      // The CAs: kept in the store since this version, else still only the files beside it.
      const secrets = rows(src, "SELECT name, data FROM cluster_secrets");
      const files = secrets.length ? Object.fromEntries(secrets.map((r) => [r.name, r.data])) : readClusterSecrets(dirname(path));
      for (const [name, data] of Object.entries(files)) await tx`INSERT INTO cluster_secrets (name, data) VALUES (${name}, ${data})`;
      counts.cluster_secrets = Object.keys(files).length;
      const [last] = rows(src, "SELECT rev, hash FROM changes ORDER BY rev DESC LIMIT 1");
      await tx`UPDATE feed_head SET rev = ${Number(last?.rev ?? 0)}, hash = ${String(last?.hash ?? "")} WHERE id = 1`;
      await tx.unsafe("SELECT setval(pg_get_serial_sequence('events', 'seq'), GREATEST((SELECT MAX(seq) FROM events), 1))").simple();
      return counts;
    });
  } finally {
    src.close();
    await dst.close();
  }
}

async function refuseNonEmpty(tx: SQL, force: boolean, to: string): Promise<void> {
  const [{ n }] = await tx`SELECT (SELECT count(*) FROM resources) + (SELECT count(*) FROM nodes) + (SELECT count(*) FROM events)
    + (SELECT count(*) FROM cluster_secrets) AS n`;
  if (Number(n) > 0 && !force) throw new Error(`${redactUrl(to)} already holds a cluster; pass --force to replace everything in it`);
  await tx.unsafe(`TRUNCATE ${TABLES.map((t) => t.table).join(", ")}, cluster_secrets, replicas, web_signin_links, session_commands`).simple();
}

async function copyTable(src: Database, tx: SQL, t: (typeof TABLES)[number]): Promise<number> {
  const list = rows(src, `SELECT ${t.cols.map((c) => `"${c}"`).join(", ")} FROM ${t.table}`);
  const cols = t.cols.map((c) => `"${c}"`).join(", ");
  const params = t.cols.map((c, i) => `$${i + 1}${t.json?.includes(c) ? "::text::jsonb" : ""}`).join(", ");
  for (const r of list) {
    await tx.unsafe(`INSERT INTO ${t.table} (${cols}) VALUES (${params})`, t.cols.map((c) => (t.bools?.includes(c) ? r[c] === 1 : r[c] ?? null)));
  }
  return list.length;
}

function rows(db: Database, q: string): Record<string, string | number | null>[] {
  return db.query<Record<string, string | number | null>, []>(q).all();
}
