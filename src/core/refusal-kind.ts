// A refusal as data: its kind, decided where the refusal is made, travels with the message
// to the log, the client, the metric, the audit event and the inventory. Never parsed back.
export const REFUSAL_KINDS = [
  "certificate", "source_address", "unknown_user", "policy", "lock", "stale_view",
  "max_connections", "max_sessions", "session_control", "recording", "other",
] as const;

/** A bounded label (metrics, inventory counts): the kind of refusal, never names or free text. */
export type RefusalKind = (typeof REFUSAL_KINDS)[number];

/** A decision to refuse: what kind it is and what the person is told (without "hostward: "). */
export interface Refusal {
  kind: RefusalKind;
  reason: string;
}

/** A kind read from outside (an agent's event): one we know, else "other". */
export function asRefusalKind(v: unknown): RefusalKind {
  return (REFUSAL_KINDS as readonly unknown[]).includes(v) ? (v as RefusalKind) : "other";
}
