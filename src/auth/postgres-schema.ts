// The PostgreSQL schema as numbered migrations, applied at start inside one transaction
// under an advisory lock: replicas starting together apply each migration once.
import type { SQL } from "bun";

/** Transaction-level advisory lock key for migrations (any fixed number of ours). */
const MIGRATION_LOCK = 0x686f7374_0001n;

export const MIGRATIONS: { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE resources (kind text NOT NULL, name text COLLATE "C" NOT NULL, data text NOT NULL, rev bigint NOT NULL, PRIMARY KEY (kind, name));
-- The feed's head: one row whose lock serialises every append, so revisions commit in order.
CREATE TABLE feed_head (id int PRIMARY KEY CHECK (id = 1), rev bigint NOT NULL, hash text NOT NULL);
INSERT INTO feed_head (id, rev, hash) VALUES (1, 0, '');
CREATE TABLE changes (rev bigint PRIMARY KEY, op text NOT NULL, kind text NOT NULL, name text NOT NULL, data text, hash text NOT NULL);
CREATE TABLE tokens (hash text PRIMARY KEY, expires_at bigint NOT NULL, reusable boolean NOT NULL, created_by text NOT NULL, created_at bigint NOT NULL, used_at bigint);
CREATE TABLE nodes (server_id text PRIMARY KEY, data jsonb NOT NULL);
CREATE TABLE events (seq bigserial PRIMARY KEY, uid text NOT NULL UNIQUE, time text COLLATE "C" NOT NULL, event text NOT NULL, "user" text, data text NOT NULL);
CREATE INDEX events_time ON events (time, seq);
CREATE TABLE semaphore_leases (key text NOT NULL, holder text NOT NULL, node text NOT NULL, acquired_at bigint NOT NULL, expires_at bigint NOT NULL, PRIMARY KEY (key, holder));
CREATE INDEX semaphore_leases_node ON semaphore_leases (node);
CREATE TABLE sessions (id text PRIMARY KEY, state text NOT NULL, node text NOT NULL, "user" text, login text, kind text,
  start_at bigint NOT NULL, end_at bigint, recorded boolean NOT NULL DEFAULT false, reason text, reason_kind text);
CREATE INDEX sessions_start ON sessions (start_at);
CREATE INDEX sessions_node_state ON sessions (node, state);
CREATE TABLE recordings (session_id text PRIMARY KEY, server_id text NOT NULL, "user" text NOT NULL, state text NOT NULL, started_at bigint NOT NULL, data text NOT NULL);
CREATE INDEX recordings_started ON recordings (started_at);
CREATE INDEX recordings_open ON recordings (server_id) WHERE state = 'open';
-- Request-token nonces already used: a token replayed against any replica is refused.
CREATE TABLE used_nonces (nonce text PRIMARY KEY, expires_at bigint NOT NULL);
CREATE INDEX used_nonces_expiry ON used_nonces (expires_at);
-- Cluster secrets every replica shares (the SSH and TLS CAs), written once by the first.
CREATE TABLE cluster_secrets (name text PRIMARY KEY, data text NOT NULL);
`,
  },
  {
    version: 2,
    sql: `
-- Running auth services sharing this database (each heartbeats its row).
CREATE TABLE replicas (id text PRIMARY KEY, addr text NOT NULL, started_at bigint NOT NULL, seen_at bigint NOT NULL);
`,
  },
  {
    version: 3,
    sql: `
-- The web console's sign-in links and browser sessions, shared by every replica: hashes of the secrets, never the secrets.
CREATE TABLE web_signin_links (hash text PRIMARY KEY, "user" text NOT NULL, cert_valid_before bigint, expires_at bigint NOT NULL);
CREATE TABLE web_sessions (hash text PRIMARY KEY, "user" text NOT NULL, expires_at bigint NOT NULL, created_at bigint NOT NULL);
CREATE INDEX web_sessions_user ON web_sessions ("user");
-- Commands for a node's agent, claimed and delivered by the replica that holds its feed.
CREATE TABLE session_commands (id text PRIMARY KEY, node text NOT NULL, type text NOT NULL, sid text NOT NULL, reason text NOT NULL,
  created_at bigint NOT NULL, expires_at bigint NOT NULL, state text NOT NULL, claimed_by text);
CREATE INDEX session_commands_pending ON session_commands (node) WHERE state = 'pending';
`,
  },
  {
    version: 4,
    sql: `
-- The console's session pages by state, user and node, newest first, without a sort of
-- every matching row (bun run bench store: a page by node took 91 ms at 100,000 sessions without them).
CREATE INDEX sessions_state_start ON sessions (state, start_at);
CREATE INDEX sessions_user_start ON sessions ("user", start_at);
CREATE INDEX sessions_node_start ON sessions (node, start_at);
`,
  },
];

/** Applies the migrations this database lacks; returns the versions applied. */
export async function migrate(sql: SQL): Promise<number[]> {
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx.unsafe("CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())").simple();
    const done = new Set((await tx`SELECT version FROM schema_migrations`).map((r: { version: number }) => r.version));
    const newest = Math.max(0, ...([...done] as number[]));
    const known = Math.max(...MIGRATIONS.map((m) => m.version));
    if (newest > known) throw new Error(`the database's schema is version ${newest}, newer than this hostward knows (${known}); upgrade hostward`);
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await tx.unsafe(m.sql).simple();
      await tx`INSERT INTO schema_migrations (version) VALUES (${m.version})`;
      applied.push(m.version);
    }
    return applied;
  });
}
