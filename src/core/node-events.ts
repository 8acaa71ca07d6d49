// Which audit events a node may send: only the types agents emit, each about the
// sending node and its own sessions. Anything else (lock.deleted, user.create…) is
// the auth service's to write, and a node that sends it is refused per event.

/** Every event type an agent emits. Add a new agent event here or the auth service refuses it. */
export const NODE_EVENT_TYPES: ReadonlySet<string> = new Set([
  "session.start", "session.end", "session.rejected", "exec", "client.disconnect", "sessctl.limit",
  // Teleport's names for the other node events (forwarding, subsystems, file transfer).
  "port", "x11-forward", "subsystem", "scp", "sftp", "auth",
]);

export type NodeEventRefusal = { kind: "type" | "node" | "session"; message: string };

/**
 * Why a node may not send this event, or undefined. `sessionNode` is the node the
 * event's session (sid) is known to run on, if any.
 */
export function nodeEventRefusal(e: { event: string; server_id?: unknown; sid?: unknown }, sender: string, sessionNode: string | undefined): NodeEventRefusal | undefined {
  if (!NODE_EVENT_TYPES.has(e.event)) return { kind: "type", message: `nodes do not send ${JSON.stringify(e.event.slice(0, 64))} events` };
  if (e.server_id !== undefined && e.server_id !== sender) return { kind: "node", message: "an event about another node" };
  if (sessionNode !== undefined && sessionNode !== sender) return { kind: "session", message: "an event about a session on another node" };
  return undefined;
}
