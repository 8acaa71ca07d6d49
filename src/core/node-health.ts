// What an agent reports about itself with each heartbeat, for the console's fleet view:
// build, lock view freshness and mode, audit backlog, open sessions, recording spool.
// Parsed once at the auth service's edge: unknown or malformed fields are dropped.

export interface NodeHealth {
  commit?: string;
  /** Since the lock view last synced; absent when it never has. */
  lock_view_age_ms?: number;
  locking_mode?: string;
  outbox_depth?: number;
  connections?: number;
  sessions?: number;
  /** Bytes of recordings waiting on the node's disk. */
  spool_bytes?: number;
}

const NUMBERS = ["lock_view_age_ms", "outbox_depth", "connections", "sessions", "spool_bytes"] as const;
const STRINGS = ["commit", "locking_mode"] as const;

export function parseNodeHealth(v: unknown): NodeHealth | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const out: NodeHealth = {};
  for (const k of NUMBERS) {
    const n = o[k];
    if (typeof n === "number" && Number.isFinite(n) && n >= 0 && n <= Number.MAX_SAFE_INTEGER) out[k] = Math.round(n);
  }
  for (const k of STRINGS) {
    const s = o[k];
    if (typeof s === "string" && s.length <= 64 && /^[\w.+-]*$/.test(s)) out[k] = s;
  }
  return out;
}
