// The SQLite store's numbered migrations after its original schema (which is created with
// IF NOT EXISTS by each part): PRAGMA user_version records the last one applied.
import type { Database } from "bun:sqlite";

export const SQLITE_MIGRATIONS: { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
-- The web console's sign-in links and browser sessions: hashes of the secrets, never the secrets.
CREATE TABLE web_signin_links (hash TEXT PRIMARY KEY, user TEXT NOT NULL, cert_valid_before INTEGER, expires_at INTEGER NOT NULL);
CREATE TABLE web_sessions (hash TEXT PRIMARY KEY, user TEXT NOT NULL, expires_at INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX web_sessions_user ON web_sessions (user);
-- Commands for a node's agent, delivered by whichever replica holds its feed.
CREATE TABLE session_commands (id TEXT PRIMARY KEY, node TEXT NOT NULL, type TEXT NOT NULL, sid TEXT NOT NULL, reason TEXT NOT NULL,
  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, state TEXT NOT NULL, claimed_by TEXT);
CREATE INDEX session_commands_pending ON session_commands (node) WHERE state = 'pending';
`,
  },
  {
    version: 2,
    sql: `
-- The console's session pages by node, newest first, without sorting the node's every row.
CREATE INDEX sessions_node_start ON sessions (node, start_at);
`,
  },
];

/** Applies the migrations this file lacks, each in its own transaction; returns the versions applied. */
export function migrateSqlite(db: Database): number[] {
  const current = db.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version ?? 0;
  const known = Math.max(...SQLITE_MIGRATIONS.map((m) => m.version));
  if (current > known) throw new Error(`the database's schema is version ${current}, newer than this hostward knows (${known}); upgrade hostward`);
  const applied: number[] = [];
  for (const m of SQLITE_MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.exec(`PRAGMA user_version = ${m.version}`);
    })();
    applied.push(m.version);
  }
  return applied;
}
