// `hostward agent start`: joins (once) or loads the node identity, starts from the
// cached cluster view, follows the change feed, heartbeats, enforces locks, serves SSH.
import type { Refusal, RefusalKind } from "../core/refusal-kind.ts";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentConfig } from "../core/config.ts";
import { formatHostPort } from "../core/host-port.ts";
import { lockMessage } from "../core/lock-match.ts";
import { parseAuthorizedKeyLine } from "../core/ssh-key.ts";
import { writeFileAtomic } from "../platform/fs-atomic.ts";
import { createLogger, type Logger } from "../platform/logger.ts";
import { startDiagServer } from "../platform/diag-server.ts";
import { AccessGuard } from "./access-guard.ts";
import { advertiseAddr } from "./advertise-addr.ts";
import { agentMetrics } from "./agent-metrics.ts";
import { AuditOutbox } from "./audit-outbox.ts";
import { AuthClock } from "./auth-clock.ts";
import { ClusterView } from "./cluster-view.ts";
import { ConnectionLeases } from "./connection-leases.ts";
import { FeedClient } from "./feed-client.ts";
import { Heartbeat } from "./heartbeat.ts";
import { directoryBytes } from "../platform/directory-bytes.ts";
import { gitCommit } from "../platform/version.ts";
import { spoolRoot } from "./recording/spool.ts";
import { LockEnforcer } from "./lock-enforcer.ts";
import { loadOrJoin, type NodeIdentity } from "./node-identity.ts";
import { currentOsUser } from "./os-user.ts";
import { SessionControl, type LimitHit } from "./session-control.ts";
import type { ConnectionEvents } from "./ssh-connection.ts";
import { SshServer } from "./ssh-server.ts";
import { ViewDb } from "./view-db.ts";
import { AgentRecorder } from "./recording/agent-recorder.ts";
import { recordingHook } from "./recording-hook.ts";
import { forwardAudit } from "./forwarding/forward-audit.ts";

/**
 * The most a starting agent waits on the auth service (host certificate, change feed,
 * lease release, all at once) before it serves from its cache: README "Outages".
 */
const STARTUP_WAIT_MS = 5_000;

export interface RunningAgent {
  serverId: string;
  sshPort: number;
  /** The diagnostics listener's port, when diag_addr is set (port 0 there picks a free one). */
  diagPort?: number;
  view: ClusterView;
  ssh: SshServer;
  stop(): Promise<void>;
}

export async function startAgent(cfg: AgentConfig, baseLog: Logger = createLogger(cfg.logLevel, { component: "agent" })): Promise<RunningAgent> {
  const node = await loadOrJoin(cfg);
  const waitUntil = Date.now() + STARTUP_WAIT_MS;
  const waitLeft = () => Bun.sleep(Math.max(0, waitUntil - Date.now()));
  const log = baseLog.child({ server_id: node.serverId });
  const viewDb = new ViewDb(join(cfg.dataDir, "agent.db"));
  if (viewDb.emptied) log.warn(`${join(cfg.dataDir, "agent.db")} was empty (truncated?): starting with an empty lock cache and audit outbox; the view comes from the auth service`);
  const view = new ClusterView(viewDb);
  // Everything that compares with a time the auth service wrote (lock expiry, certificate
  // validity, last_synced_at) or that it will sort by (event times) uses its clock.
  const clock = new AuthClock(viewDb.clockOffset(), (ms) => {
    try {
      viewDb.saveClockOffset(ms);
    } catch {
      // a full disk: the offset is measured again after a restart
    }
  }, log);
  node.api.clock = clock;
  const now = () => clock.date();
  const outbox = new AuditOutbox(viewDb.db, node.api, node.serverId, log, now);
  const feed = new FeedClient(node.api, view, log, now);
  feed.start();
  // Leases this agent held before it (re)started are released before it takes any.
  const leases = new ConnectionLeases(node.api, node.serverId, log);
  const leasesReleased = leases.start();
  const hostCert = await currentHostCert(cfg, node, log, waitLeft);
  // Serve from the cache only if the auth service does not answer soon: a lock made
  // while this agent was down must hold from its first connection. One deadline for
  // all of it, so a frozen auth service (TCP open, no answer) costs at most that.
  await Promise.race([Promise.all([feed.firstAttempt, leasesReleased]), waitLeft()]);
  const guard = new AccessGuard(view, node.serverId, now);
  const recorder = new AgentRecorder({ dataDir: cfg.dataDir, serverId: node.serverId, settings: cfg.recording, api: node.api, log: log.child({ component: "recorder" }), now });
  const metrics = agentMetrics();
  const control = new SessionControl(leases, { cut: (who, reason, sid) => outbox.emit(disconnectEvent(who, reason, sid)) }, log);
  const events = auditEvents(outbox, metrics.rejected, control);
  const ssh = new SshServer(
    { privateKeyPem: node.hostKeyPem, certBlob: hostCert.blob, certType: hostCert.type },
    { view, guard, labels: cfg.ssh.labels, runningAsRoot: process.getuid?.() === 0, agentUser: currentOsUser()?.name ?? String(process.getuid?.()), log, now, events, control,
      record: recordingHook(recorder, view, cfg.recording.notice, (c, reason) => events.sessionRejected(c, { kind: "recording", reason })),
      forwarding: { guard, log, events: forwardAudit(outbox), runningAsRoot: process.getuid?.() === 0 } },
    log,
    { loginGraceMs: cfg.ssh.loginGraceTime, maxStartups: cfg.ssh.maxStartups },
  );
  const enforcer = new LockEnforcer(view, guard, () => ssh.connections,
    (cut) => outbox.emitMany(cut.flatMap(({ conn, reason, sids }) => (sids.length ? sids : [undefined]).map((sid) => disconnectEvent(conn, reason, sid)))), log);
  enforcer.start();
  const sshPort = await ssh.listen(cfg.ssh.listen.host, cfg.ssh.listen.port);
  const heartbeat = new Heartbeat(node.api, advertiseAddr(cfg.ssh.advertiseAddr, { host: cfg.ssh.listen.host, port: sshPort }), cfg.ssh.labels, log, () => ({
    commit: gitCommit(),
    ...(view.lastSyncedAt ? { lock_view_age_ms: Math.max(0, clock.now() - view.lastSyncedAt.getTime()) } : {}),
    locking_mode: view.clusterConfig.lockingMode,
    outbox_depth: outbox.depth(),
    connections: ssh.connections.size,
    sessions: [...ssh.connections].reduce((n, c) => n + c.sessions.size, 0),
    spool_bytes: directoryBytes(spoolRoot(cfg.dataDir)),
  }));
  heartbeat.start();
  outbox.start();
  recorder.start();
  feed.onConnected = () => recorder.uploader.retryNow();
  feed.onTerminate = (sid, reason) => {
    for (const conn of ssh.connections) for (const s of conn.sessions) {
      if (s.id !== sid) continue;
      s.terminate(`hostward: ${reason}`);
      outbox.emit({ event: "client.disconnect", code: "T3006I", user: conn.user, login: conn.login, reason, sid });
    }
  };
  metrics.watch({ ssh, view, outbox, guard, leases, feed, clock, recorder });
  const diag = cfg.diagAddr ? startDiagServer(cfg.diagAddr, { ready: () => readiness(view, guard, feed, clock), metrics: () => metrics.registry.render() }) : undefined;
  if (process.getuid?.() !== 0) log.warn("not running as root: only the agent's own OS account can log in", { account: currentOsUser()?.name });
  log.info("agent started", { ssh: formatHostPort({ host: cfg.ssh.listen.host, port: sshPort }), auth_server: node.identity.authServer, synced: feed.connected });
  return {
    serverId: node.serverId, sshPort, view, ssh, diagPort: diag?.port,
    async stop() {
      enforcer.stop();
      leases.stop();
      feed.stop();
      heartbeat.stop();
      outbox.stop();
      diag?.stop(true);
      await ssh.stop();
      recorder.stop();
      await leases.drain();
      viewDb.close();
    },
  };
}

function readiness(view: ClusterView, guard: AccessGuard, feed: FeedClient, clock: AuthClock): { ok: boolean; reason?: string } {
  const nodeLock = guard.nodeLock();
  if (nodeLock) return { ok: false, reason: `node is locked: ${lockMessage(nodeLock)}` };
  if (view.rev === 0) return { ok: false, reason: "cluster view never synced" };
  if (guard.isStale()) return { ok: false, reason: guard.staleMessage() };
  // Degraded, still serving: the agent works on the auth service's time either way.
  return { ok: true, reason: feed.connected ? clock.degraded() : "change feed reconnecting" };
}

/** The audit event for a connection or session the agent cut (lock, lease, max_session_ttl). */
function disconnectEvent(who: { user?: string; login?: string }, reason: string, sid?: string) {
  return { event: "client.disconnect", code: "T3006I", user: who.user, login: who.login, reason, ...(sid ? { sid } : {}) };
}

function auditEvents(outbox: AuditOutbox, countRejection: (kind: RefusalKind) => void, control: SessionControl): ConnectionEvents {
  const rejected = (user: string | undefined, login: string | undefined, { kind, reason }: Refusal, limit?: LimitHit) => {
    countRejection(kind);
    // sessctl.limit carries exactly the fields of seed 001's example (no login, no reason).
    if (limit) outbox.emit({ event: "sessctl.limit", code: "T1006W", user, max: limit.max, sessctl_kind: limit.kind });
    else outbox.emit({ event: "session.rejected", code: "T1006W", user, login, reason, reason_kind: kind });
  };
  return {
    rejected: (_c, refusal, user, login, limit) => rejected(user, login, refusal, limit),
    sessionRejected: (c, refusal, limit) => rejected(c.user, c.login, refusal, limit),
    sessionStarted: (c, s) => {
      outbox.emit({ event: "session.start", code: "T2000I", user: c.user, login: c.login, sid: s.id, session_kind: s.kind, client: c.clientAddr.ip, recorded: s.recorded });
      if (s.command !== undefined) outbox.emit({ event: "exec", code: "T3002I", user: c.user, login: c.login, sid: s.id, command: s.command });
    },
    // A session the agent cut carries why (interrupted + reason), so the inventory says it as data.
    sessionEnded: (c, s, exit) => outbox.emit({ event: "session.end", code: "T2004I", user: c.user, login: c.login, sid: s.id, exit_code: exit.code, exit_signal: exit.signal,
      ...(exit.cut ? { interrupted: true, reason: exit.cut } : {}) }),
    closed: (c) => control.connectionClosed(c),
  };
}

/**
 * Asks for a fresh host certificate; with the auth service down or not answering
 * before `giveUp`, the saved one serves (a late answer is still saved, for the next start).
 */
async function currentHostCert(cfg: AgentConfig, node: NodeIdentity, log: Logger, giveUp: () => Promise<void>) {
  const path = join(cfg.dataDir, "host_cert.pub");
  const renewal = node.api.request<{ host_cert: string }>("POST", "/v1/nodes/host-cert", { host_key: node.hostKeyLine })
    .then((res) => writeFileAtomic(path, res.host_cert + "\n", 0o644));
  const saved = existsSync(path);
  try {
    // Without a saved certificate there is nothing to serve with: wait for the answer.
    const late = saved ? giveUp().then(() => { throw new Error("the auth service did not answer in time"); }) : renewal;
    await Promise.race([renewal, late]);
  } catch (e) {
    if (!existsSync(path)) throw new Error(`no host certificate yet and the auth service refused one: ${(e as Error).message}`);
    log.warn("could not renew the host certificate; using the saved one", { error: e as Error });
    renewal.catch(() => {});
  }
  return parseAuthorizedKeyLine(readFileSync(path, "utf8").trim());
}
