// `hostward agent start`: joins (once) or loads the node identity, starts from the
// cached cluster view, follows the change feed, heartbeats, and serves SSH.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentConfig } from "../core/config.ts";
import { formatHostPort } from "../core/host-port.ts";
import { parseAuthorizedKeyLine } from "../core/ssh-key.ts";
import { writeFileAtomic } from "../platform/fs-atomic.ts";
import { createLogger, type Logger } from "../platform/logger.ts";
import { startDiagServer } from "../platform/diag-server.ts";
import { Metrics } from "../platform/metrics.ts";
import { currentOsUser } from "./os-user.ts";
import { ClusterView } from "./cluster-view.ts";
import { FeedClient } from "./feed-client.ts";
import { Heartbeat } from "./heartbeat.ts";
import { loadOrJoin, type NodeIdentity } from "./node-identity.ts";
import { SshServer } from "./ssh-server.ts";
import { ViewDb } from "./view-db.ts";

export interface RunningAgent {
  serverId: string;
  sshPort: number;
  view: ClusterView;
  ssh: SshServer;
  stop(): Promise<void>;
}

export async function startAgent(cfg: AgentConfig, log: Logger = createLogger(cfg.logLevel, { component: "agent" })): Promise<RunningAgent> {
  const node = await loadOrJoin(cfg);
  log = log.child({ server_id: node.serverId });
  const viewDb = new ViewDb(join(cfg.dataDir, "agent.db"));
  const view = new ClusterView(viewDb);
  const hostCert = await currentHostCert(cfg, node, log);
  const feed = new FeedClient(node.api, view, log);
  feed.start();
  const metrics = new Metrics();
  const rejections = metrics.counter("hostward_agent_rejections_total", "Refused logins and sessions, by kind.");
  const ssh = new SshServer(
    { privateKeyPem: node.hostKeyPem, certBlob: hostCert.blob, certType: hostCert.type },
    {
      view, serverId: node.serverId, labels: cfg.ssh.labels, runningAsRoot: process.getuid?.() === 0, agentUser: currentOsUser()?.name ?? String(process.getuid?.()), log, now: () => new Date(),
      events: {
        rejected: (_c, reason) => rejections({ reason: reason.split(":")[0]!.slice(0, 40) }),
        sessionStarted: (c, s) => log.info("session start", { conn: c.id, session: s.id, user: c.user, login: c.login, kind: s.kind }),
        sessionEnded: (c, s, exit) => log.info("session end", { conn: c.id, session: s.id, user: c.user, ...exit }),
        closed: () => {},
      },
    },
    log,
  );
  const sshPort = await ssh.listen(cfg.ssh.listen.host, cfg.ssh.listen.port);
  const heartbeat = new Heartbeat(node.api, cfg.ssh.advertiseAddr ?? formatHostPort({ host: cfg.ssh.listen.host, port: sshPort }), cfg.ssh.labels, log);
  heartbeat.start();
  metrics.gauge("hostward_agent_connections", "Live SSH connections.", () => ssh.connections.size);
  metrics.gauge("hostward_agent_sessions", "Live session channels.", () => [...ssh.connections].reduce((n, c) => n + c.sessions.size, 0));
  metrics.gauge("hostward_agent_lock_view_age_seconds", "Seconds since the lock view last synced.", () => view.lastSyncedAt ? (Date.now() - view.lastSyncedAt.getTime()) / 1000 : -1);
  metrics.gauge("hostward_agent_locks", "Locks held in the view.", () => view.locks.size);
  const diag = cfg.diagAddr ? startDiagServer(cfg.diagAddr, {
    ready: () => (feed.connected || view.rev > 0 ? { ok: true } : { ok: false, reason: "cluster view never synced" }),
    metrics: () => metrics.render(),
  }) : undefined;
  log.info("agent started", { ssh: formatHostPort({ host: cfg.ssh.listen.host, port: sshPort }), auth_server: node.identity.authServer });
  return {
    serverId: node.serverId, sshPort, view, ssh,
    async stop() {
      feed.stop();
      heartbeat.stop();
      diag?.stop(true);
      await ssh.stop();
      viewDb.close();
    },
  };
}

/** Asks for a fresh host certificate; with the auth service down, the saved one serves. */
async function currentHostCert(cfg: AgentConfig, node: NodeIdentity, log: Logger) {
  const path = join(cfg.dataDir, "host_cert.pub");
  try {
    const res = await node.api.request<{ host_cert: string }>("POST", "/v1/nodes/host-cert", { host_key: node.hostKeyLine });
    writeFileAtomic(path, res.host_cert + "\n", 0o644);
  } catch (e) {
    if (!existsSync(path)) throw new Error(`no host certificate yet and the auth service refused one: ${(e as Error).message}`);
    log.warn("could not renew the host certificate; using the saved one", { error: e as Error });
  }
  return parseAuthorizedKeyLine(readFileSync(path, "utf8").trim());
}
