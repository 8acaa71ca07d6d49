// Storage contract for the session inventory: every session channel a
// node reported, from start to end, and every refusal. Fed from the audit events the
// agents ship (auth/session-events.ts); every update is idempotent, because events
// arrive at least once.

/** `lost`: the node restarted (or vanished) without reporting the end. */
export type StoredSessionState = "active" | "completed" | "rejected" | "lost";

export interface SessionRecord {
  id: string;
  state: StoredSessionState;
  node: string;
  user?: string;
  login?: string;
  /** shell, exec or sftp; absent for refusals. */
  kind?: string;
  start: Date;
  end?: Date;
  recorded: boolean;
  /** Why it was refused, cut or lost. */
  reason?: string;
}

export interface SessionQuery {
  states?: StoredSessionState[];
  user?: string;
  node?: string;
  login?: string;
  since?: Date;
  /** Started before this time. */
  until?: Date;
  /** Keyset paging: the rows after this one in (start desc, id) order, from the previous page's last row. */
  after?: { start: Date; id: string };
  limit: number;
}

export interface SessionInventory {
  /** A session channel started; keeps an end that arrived first or is already known. */
  started(s: { id: string; node: string; user?: string; login?: string; kind?: string; start: Date; recorded?: boolean }): Promise<void>;
  ended(s: { id: string; node: string; user?: string; login?: string; end: Date }): Promise<void>;
  /** A refused login or session channel, keyed by its event's uid. */
  rejected(s: { id: string; node: string; user?: string; login?: string; time: Date; reason: string; reasonKind: string }): Promise<void>;
  /** Notes why a session was closed (e.g. max_session_ttl); does not change its state. */
  noteReason(id: string, reason: string): Promise<void>;
  /** For the recorder: whether the session has a recording. */
  setRecorded(id: string, recorded: boolean): Promise<void>;
  /** The node restarted: its sessions still open are over. Returns how many. */
  markNodeLost(node: string, at: Date, reason: string): Promise<number>;
  list(q: SessionQuery): Promise<SessionRecord[]>;
  /** The node a session is known to run on (to refuse events about it from another node). */
  nodeOf(id: string): Promise<string | undefined>;
  /** Rows by stored state, and refusals by reason kind (for metrics). */
  counts(): Promise<{ states: Record<string, number>; rejections: Record<string, number> }>;
}
