// Commands for one node's agent that any replica may receive but only the replica holding
// that node's feed can deliver (terminate a session): a row in the shared store that the
// holder claims, so exactly one replica sends it and the asker learns whether one did.

export interface SessionCommand {
  id: string;
  /** The node (server UUID) whose agent runs the session. */
  node: string;
  type: "terminate";
  sid: string;
  reason: string;
  createdAt: Date;
  /** Not claimed by then: nobody delivers it any more. */
  expiresAt: Date;
}

/** pending: waiting for the replica with the node's feed; claimed: that replica sent it; withdrawn: the asker gave up. */
export type SessionCommandState = "pending" | "claimed" | "withdrawn";

export interface SessionCommandStore {
  /** Queues a command (and wakes the other replicas); commands older than an hour are pruned. */
  addCommand(c: SessionCommand): Promise<void>;
  /**
   * Claims the pending, unexpired commands for `nodes` (the feeds this replica holds) for
   * replica `by`: each command is claimed by one caller only, never after it was withdrawn.
   */
  claimCommands(nodes: readonly string[], by: string, now: Date): Promise<SessionCommand[]>;
  /** pending → withdrawn; returns the state the command is in afterwards (undefined: unknown). */
  withdrawCommand(id: string): Promise<SessionCommandState | undefined>;
  commandState(id: string): Promise<{ state: SessionCommandState; claimedBy?: string } | undefined>;
  /**
   * Calls `wake` whenever another replica may have queued or claimed a command (and once
   * after each reconnect); returns the function that stops it. The table stays the truth.
   */
  onCommandWrite(wake: () => void): Promise<() => Promise<void>>;
}

/** Commands are kept this long after they are made (for a late look at their state). */
export const COMMANDS_KEPT_MS = 3600_000;

export interface CommandRow { id: string; node: string; type: string; sid: string; reason: string; created_at: number | string; expires_at: number | string }

/** A stored row as a command (both backends). */
export function commandOf(r: CommandRow): SessionCommand {
  return { id: r.id, node: r.node, type: r.type as SessionCommand["type"], sid: r.sid, reason: r.reason, createdAt: new Date(Number(r.created_at)), expiresAt: new Date(Number(r.expires_at)) };
}

/** The nodes of `pending` that are among `held` (a replica's feeds), each once. */
export function heldOf(pending: readonly string[], held: readonly string[]): string[] {
  if (pending.length === 0) return [];
  const ours = new Set(held);
  return [...new Set(pending.filter((n) => ours.has(n)))];
}
