// SQLite implementation of the SessionCommandStore. One process serves a SQLite store, so
// its commands never need another replica; the table keeps the contract the same anyway.
import type { Database } from "bun:sqlite";
import { COMMANDS_KEPT_MS, commandOf, heldOf, type CommandRow, type SessionCommand, type SessionCommandState, type SessionCommandStore } from "./session-command-store.ts";
import type { SqliteGate } from "./sqlite-gate.ts";

export class SqliteSessionCommandStore implements SessionCommandStore {
  constructor(private readonly db: Database, private readonly gate: SqliteGate) {}

  addCommand(c: SessionCommand): Promise<void> {
    return this.gate(() => {
      this.db.query("DELETE FROM session_commands WHERE created_at < ?").run(c.createdAt.getTime() - COMMANDS_KEPT_MS);
      this.db.query("INSERT INTO session_commands (id, node, type, sid, reason, created_at, expires_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')")
        .run(c.id, c.node, c.type, c.sid, c.reason, c.createdAt.getTime(), c.expiresAt.getTime());
    });
  }

  claimCommands(nodes: readonly string[], by: string, now: Date): Promise<SessionCommand[]> {
    return this.gate(() => {
      // Run on every feed poll with every node held: the pending commands (few, often none) first.
      const pending = this.db.query<{ node: string }, [number]>("SELECT DISTINCT node FROM session_commands WHERE state = 'pending' AND expires_at > ?").all(now.getTime());
      const mine = heldOf(pending.map((r) => r.node), nodes);
      if (mine.length === 0) return [];
      return this.db.query<CommandRow, [string, number, string]>(
        `UPDATE session_commands SET state = 'claimed', claimed_by = ?
         WHERE state = 'pending' AND expires_at > ? AND node IN (SELECT value FROM json_each(?))
         RETURNING id, node, type, sid, reason, created_at, expires_at`).all(by, now.getTime(), JSON.stringify(mine)).map(commandOf);
    });
  }

  withdrawCommand(id: string): Promise<SessionCommandState | undefined> {
    return this.gate(() => {
      this.db.query("UPDATE session_commands SET state = 'withdrawn' WHERE id = ? AND state = 'pending'").run(id);
      return this.db.query<{ state: SessionCommandState }, [string]>("SELECT state FROM session_commands WHERE id = ?").get(id)?.state;
    });
  }

  commandState(id: string): Promise<{ state: SessionCommandState; claimedBy?: string } | undefined> {
    return this.gate(() => {
      const row = this.db.query<{ state: SessionCommandState; claimed_by: string | null }, [string]>("SELECT state, claimed_by FROM session_commands WHERE id = ?").get(id);
      return row ? { state: row.state, ...(row.claimed_by ? { claimedBy: row.claimed_by } : {}) } : undefined;
    });
  }

  /** One process writes this file: nobody else queues or claims. */
  async onCommandWrite(_wake: () => void): Promise<() => Promise<void>> {
    return async () => {};
  }
}
