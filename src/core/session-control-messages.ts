// What session control tells a user, in one place: the agent says these
// lines, and the auth service rebuilds them from sessctl.limit events for the inventory.
import { formatDuration, type Duration } from "./duration.ts";

export type SessctlKind = "connection" | "session";

/** `too many concurrent ssh connections for user "alice" (max=2)` and its session twin. */
export function sessctlLimitMessage(kind: SessctlKind, user: string, max: number): string {
  const what = kind === "connection" ? "concurrent ssh connections" : "session channels";
  return `too many ${what} for user ${JSON.stringify(user)} (max=${max})`;
}

/** A limited login while no lease can be taken: refused, never let in uncounted. */
export function leaseUnavailableMessage(user: string): string {
  return `max_connections for user ${JSON.stringify(user)} cannot be checked: the auth service is unreachable`;
}

export function leaseExpiredMessage(user: string): string {
  return `connection closed: the session control lease for user ${JSON.stringify(user)} expired (the auth service could not be reached to renew it)`;
}

export function leaseRemovedMessage(user: string): string {
  return `connection closed: the session control lease for user ${JSON.stringify(user)} was removed`;
}

export function sessionTtlMessage(ttl: Duration): string {
  return `session closed: it reached its maximum age of ${formatDuration(ttl)} (max_session_ttl)`;
}
