// PostgreSQL implementation of the SessionCommandStore: a queued or claimed command
// NOTIFYs every replica; a claim is one conditional UPDATE, so one replica sends it.
import type { SQL } from "bun";
import { COMMANDS_KEPT_MS, commandOf, heldOf, type CommandRow, type SessionCommand, type SessionCommandState, type SessionCommandStore } from "./session-command-store.ts";

/** NOTIFY channel for session commands: queued (the holder of the feed claims) or claimed (the asker looks). */
const COMMAND_CHANNEL = "hostward_commands";

export class PostgresSessionCommandStore implements SessionCommandStore {
  /** `q` runs the statements (the pool or a transaction); `pool` listens. */
  constructor(private readonly q: SQL, private readonly pool: SQL) {}

  async addCommand(c: SessionCommand): Promise<void> {
    await this.q`DELETE FROM session_commands WHERE created_at < ${c.createdAt.getTime() - COMMANDS_KEPT_MS}`;
    await this.q`INSERT INTO session_commands (id, node, type, sid, reason, created_at, expires_at, state)
      VALUES (${c.id}, ${c.node}, ${c.type}, ${c.sid}, ${c.reason}, ${c.createdAt.getTime()}, ${c.expiresAt.getTime()}, 'pending')`;
    await this.q`SELECT pg_notify(${COMMAND_CHANNEL}, ${c.id})`;
  }

  async claimCommands(nodes: readonly string[], by: string, now: Date): Promise<SessionCommand[]> {
    // Run on every feed poll with every node this replica holds: look at the (few, often
    // no) pending commands first, and send only their nodes that are ours.
    const pending = await this.q`SELECT DISTINCT node FROM session_commands WHERE state = 'pending' AND expires_at > ${now.getTime()}`;
    const mine = heldOf(pending.map((r: { node: string }) => r.node), nodes);
    if (mine.length === 0) return [];
    // Two replicas claiming at once queue on the row; the second no longer finds it pending.
    const rows = await this.q`UPDATE session_commands SET state = 'claimed', claimed_by = ${by}
      WHERE state = 'pending' AND expires_at > ${now.getTime()} AND node IN (SELECT jsonb_array_elements_text(${JSON.stringify(mine)}::text::jsonb))
      RETURNING id, node, type, sid, reason, created_at, expires_at`;
    if (rows.length) await this.q`SELECT pg_notify(${COMMAND_CHANNEL}, ${rows[0].id})`;
    return rows.map((r: CommandRow) => commandOf(r));
  }

  async withdrawCommand(id: string): Promise<SessionCommandState | undefined> {
    await this.q`UPDATE session_commands SET state = 'withdrawn' WHERE id = ${id} AND state = 'pending'`;
    return (await this.commandState(id))?.state;
  }

  async commandState(id: string): Promise<{ state: SessionCommandState; claimedBy?: string } | undefined> {
    const [row] = await this.q`SELECT state, claimed_by FROM session_commands WHERE id = ${id}`;
    return row ? { state: row.state, ...(row.claimed_by ? { claimedBy: row.claimed_by } : {}) } : undefined;
  }

  async onCommandWrite(wake: () => void): Promise<() => Promise<void>> {
    // As for the feed: Bun re-subscribes after a drop and onlisten runs then too.
    const sub = await this.pool.listen(COMMAND_CHANNEL, () => wake(), () => wake());
    return () => sub.unlisten();
  }
}
