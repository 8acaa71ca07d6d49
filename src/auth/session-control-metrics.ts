// The auth service's session-control metrics: leases held, sessions in
// the inventory by state, refusals by kind, audit events stored.
import type { Metrics } from "../platform/metrics.ts";
import type { AuthService } from "./auth-service.ts";

export function addSessionControlMetrics(m: Metrics, svc: AuthService): void {
  m.gauge("hostward_auth_semaphore_leases", "Unexpired max_connections leases (one per limited live connection).", () => svc.store.semaphores.list(svc.now()).length);
  m.gauge("hostward_auth_sessions", "Sessions in the inventory by stored state (active ones on offline nodes show as lost in ctl).", () => {
    const { states } = svc.store.sessions.counts();
    return ["active", "completed", "rejected", "lost"].map((state) => [{ state }, states[state] ?? 0]);
  });
  m.gauge("hostward_auth_rejections", "Refused logins and session channels reported by nodes, by reason kind.", () =>
    Object.entries(svc.store.sessions.counts().rejections).map(([reason, n]) => [{ reason }, n]));
}
