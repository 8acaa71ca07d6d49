// The agent's Prometheus metrics: connections, sessions, rejections by
// reason, lock-view age, locks held, audit outbox depth, session control leases,
// node-sync recording parts waiting for the auth service.
import type { RefusalKind } from "../core/refusal-kind.ts";
import { Metrics } from "../platform/metrics.ts";
import type { AccessGuard } from "./access-guard.ts";
import type { AuditOutbox } from "./audit-outbox.ts";
import type { AuthClock } from "./auth-clock.ts";
import type { ClusterView } from "./cluster-view.ts";
import type { ConnectionLeases } from "./connection-leases.ts";
import type { FeedClient } from "./feed-client.ts";
import type { AgentRecorder } from "./recording/agent-recorder.ts";
import type { SshServer } from "./ssh-server.ts";

export interface AgentMetricsDeps { ssh: SshServer; view: ClusterView; outbox: AuditOutbox; guard: AccessGuard; leases: ConnectionLeases; feed: FeedClient; clock: AuthClock; recorder: AgentRecorder }

/**
 * The registry and the rejection counter exist from the start (the SSH server counts
 * into it); the gauges are attached once the parts they read are built.
 */
export function agentMetrics() {
  const registry = new Metrics();
  const count = registry.counter("hostward_agent_rejections_total", "Refused logins and session channels, by kind.");
  return { registry, rejected: (kind: RefusalKind) => count({ reason: kind }), watch: (deps: AgentMetricsDeps) => watch(registry, deps) };
}

function watch(registry: Metrics, deps: AgentMetricsDeps): void {
  const rewinds = registry.counter("hostward_agent_feed_rewinds_total", "Snapshots older than the view: the auth service's history went back (a database restore or a failover).");
  deps.feed.onRewind = () => rewinds();
  const { ssh, view, outbox, guard, leases } = deps;
  registry.gauge("hostward_agent_connections", "Live SSH connections.", () => ssh.connections.size);
  registry.gauge("hostward_agent_sessions", "Live session channels.", () => [...ssh.connections].reduce((n, c) => n + c.sessions.size, 0));
  registry.gauge("hostward_agent_leases", "max_connections leases this agent holds (one per limited live connection).", () => leases.size);
  registry.gauge("hostward_agent_lock_view_age_seconds", "Seconds since the lock view last synced (-1: never).", () => view.lastSyncedAt ? (deps.clock.now() - view.lastSyncedAt.getTime()) / 1000 : -1);
  registry.gauge("hostward_agent_clock_offset_seconds", "How far this node's clock is ahead of the auth service's (negative: behind), measured on every API answer.", () => deps.clock.skewMs / 1000);
  registry.gauge("hostward_agent_lock_view_stale", "1 when the lock view is older than lock_max_staleness.", () => (guard.isStale() ? 1 : 0));
  registry.gauge("hostward_agent_locks", "Locks held in the view.", () => view.locks.size);
  registry.gauge("hostward_agent_view_revision", "Change-feed revision the view holds (compare with the auth service's).", () => view.rev);
  registry.gauge("hostward_agent_outbox_depth", "Audit events waiting to be shipped.", () => outbox.depth());
  registry.gauge("hostward_agent_recording_sync_parts_waiting", "node-sync recording parts not yet acknowledged by the auth service (a session closes when its oldest waits past recording.sync_timeout).",
    () => deps.recorder.syncPartsWaiting());
}
