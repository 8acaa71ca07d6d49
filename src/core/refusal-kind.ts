// A bounded label for a refusal (metrics, inventory counts): the kind of refusal,
// never user names or free text.
export type RefusalKind = "lock" | "stale_view" | "certificate" | "policy" | "max_connections" | "max_sessions" | "session_control" | "other";

export function refusalKind(reason: string): RefusalKind {
  if (reason.startsWith("lock targeting")) return "lock";
  if (reason.startsWith("preventive lock-out")) return "stale_view";
  if (reason.startsWith("too many concurrent ssh connections")) return "max_connections";
  if (reason.startsWith("too many session channels")) return "max_sessions";
  if (reason.startsWith("max_connections for user")) return "session_control";
  if (reason.startsWith("certificate") || reason.includes("principal") || reason.startsWith("malformed")) return "certificate";
  if (reason.includes("not allowed") || reason.includes("denied") || reason.includes("not known")) return "policy";
  return "other";
}
