// The auth service's session-control metrics: leases held, sessions in the inventory
// by state, refusals by kind, audit events stored. The gauges read what refresh() last
// fetched: the store is asynchronous, a scrape awaits refresh first.
import type { Metrics } from "../platform/metrics.ts";
import type { AuthService } from "./auth-service.ts";

/** Registers the gauges; returns the refresh to await before each scrape. */
export function addSessionControlMetrics(m: Metrics, svc: AuthService): () => Promise<void> {
  let leases = 0;
  let counts: { states: Record<string, number>; rejections: Record<string, number> } = { states: {}, rejections: {} };
  m.gauge("hostward_auth_semaphore_leases", "Unexpired max_connections leases (one per limited live connection).", () => leases);
  m.gauge("hostward_auth_sessions", "Sessions in the inventory by stored state (active ones on offline nodes show as lost in ctl).", () =>
    ["active", "completed", "rejected", "lost"].map((state) => [{ state }, counts.states[state] ?? 0]));
  m.gauge("hostward_auth_rejections", "Refused logins and session channels reported by nodes, by reason kind.", () =>
    Object.entries(counts.rejections).map(([reason, n]) => [{ reason }, n]));
  return async () => {
    leases = (await svc.store.semaphores.list(svc.now())).length;
    counts = await svc.store.sessions.counts();
  };
}
