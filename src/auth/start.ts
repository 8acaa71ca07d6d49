// `hostward auth start`: opens the store, makes or loads the CAs, seeds built-in
// roles and the admin identity on first start, and serves the API and change feed.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { builtinRoles } from "../core/builtin-roles.ts";
import { caPinFromPem } from "../core/ca-pin.ts";
import type { AuthConfig } from "../core/config.ts";
import { formatHostPort } from "../core/host-port.ts";
import { DEFAULT_CLUSTER_CONFIG } from "../core/resource-types.ts";
import { startDiagServer } from "../platform/diag-server.ts";
import { createLogger, type Logger } from "../platform/logger.ts";
import { Metrics } from "../platform/metrics.ts";
import { createApi, largestBody, type Identify, type Route } from "./api.ts";
import { personCaller, type Caller } from "./authenticate.ts";
import type { TlsMaterial } from "./tls-ca.ts";
import { AuthService } from "./auth-service.ts";
import { ensureAdminIdentity } from "./admin-identity.ts";
import { ReplayGuard } from "./replay-guard.ts";
import { adminRoutes } from "./routes/admin-routes.ts";
import { eventRoutes } from "./routes/event-routes.ts";
import { nodeRoutes } from "./routes/node-routes.ts";
import { publicRoutes } from "./routes/public-routes.ts";
import { resourceRoutes } from "./routes/resource-routes.ts";
import { recordingRoutes } from "./routes/recording-routes.ts";
import { RecordingIngest } from "./recording/recording-ingest.ts";
import { PartChecker } from "./recording/part-checker.ts";
import { storageFromUrl } from "./recording/storage-from-url.ts";
import { semaphoreRoutes } from "./routes/semaphore-routes.ts";
import { sessionRoutes } from "./routes/session-routes.ts";
import { addSessionControlMetrics } from "./session-control-metrics.ts";
import { openStore, redactUrl } from "./open-store.ts";
import { syncClusterSecrets } from "./cluster-secrets.ts";
import type { Store } from "./store.ts";
import { randomUUID } from "node:crypto";
import { loadOrCreateSshCas } from "./ssh-cas.ts";
import { loadOrCreateTls } from "./tls-ca.ts";
import { TOKEN_WINDOW_MS } from "../core/request-token.ts";
import type { WatchHub, WatchSocketData } from "./watch-hub.ts";
import { liveReplicas } from "./live-replicas.ts";

const FEED_POLL_MS = 2_000;
const REPLICA_HEARTBEAT_MS = 5_000;
/** A replica not seen for this long is gone (killed without removing its row). */

export interface RunningAuth {
  svc: AuthService;
  port: number;
  caPin: string;
  caCertPem: string;
  adminIdentityPath: string;
  /** The diagnostics listener's port, when diag_addr is set (port 0 there picks a free one). */
  diagPort?: number;
  stop(): Promise<void>;
}

/**
 * Something the auth process serves beside its API (the web console): routes added to
 * the API, and a start hook given the API to call as a person. Passed in by the
 * command that starts the service, so src/auth never imports what it hosts.
 */
export interface AuthAddon {
  routes(): Route[];
  start(ctx: AddonContext): Promise<{ url?: string; stop(): Promise<void> }>;
}

export interface AddonContext {
  cfg: AuthConfig;
  svc: AuthService;
  tls: TlsMaterial;
  log: Logger;
  /** The API handler, with callers identified by `identify` instead of a signed request token. */
  apiAs(identify: Identify): (req: Request, server: unknown) => Promise<Response | undefined>;
  /** A person by name with their current roles; throws 401/403 when they are gone or locked. */
  person(name: string): Promise<Caller>;
}

export async function startAuth(cfg: AuthConfig, log: Logger = createLogger(cfg.logLevel, { component: "auth" }), addons: AuthAddon[] = []): Promise<RunningAuth & { addonUrls: string[] }> {
  mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  const store = await openStore(cfg);
  const replica = await joinReplicas(store, cfg, log);
  await syncClusterSecrets(store, cfg.dataDir, cfg.clusterName, log);
  const tls = await loadOrCreateTls(cfg.dataDir, [cfg.listen.host, ...(cfg.publicAddr ? [cfg.publicAddr.replace(/:\d+$/, "")] : []), ...(cfg.web ? [cfg.web.listen.host] : [])]);
  const cas = loadOrCreateSshCas(cfg.dataDir, cfg.clusterName);
  const caPin = caPinFromPem(tls.caCertPem);
  const svc = new AuthService(store, cas, cfg.clusterName, caPin, log, undefined, replica.id);
  const storage = storageFromUrl(cfg.recordings.storage, process.env);
  await storage.check().catch((e) => log.error("recording storage is not usable yet; uploads will be retried", { storage: storage.url, error: e as Error }));
  const metrics = new Metrics();
  const recordingProblems = metrics.counter("hostward_auth_recording_problems_total", "Recording evidence at risk: corrupt parts that could not be kept aside, staged objects left in storage (leaked) and later removed by the sweep, record writes dropped because another replica wrote the upload meanwhile.");
  // Part checks (inflate + every event line) run on a worker, off this event loop.
  const partChecker = new PartChecker();
  const ingest = new RecordingIngest(store.recordings, storage, (f) => svc.audit(f), log.child({ component: "recordings" }), () => new Date(), (problem) => recordingProblems({ problem }), (b) => partChecker.lend(b));
  const sweep = () => void ingest.sweep().catch((e) => log.warn("recording sweep failed", { error: e as Error }));
  const sweeper = setInterval(sweep, 10 * 60_000);
  // Once at start too: what a crash or an outage left behind is found without waiting.
  sweep();
  const hub = svc.hub;
  await hub.start();
  await seed(svc);
  // Another replica's writes: NOTIFY wakes the hub at once; the poll covers a missed wake-up.
  const stopListening = await store.onFeedWrite(() => void hub.sync().catch((e) => log.warn("change feed read failed", { error: e as Error })));
  // Session commands another replica received for a node whose feed is here (and the claims the askers wait for).
  const relayCommands = () => void svc.commands.wake().catch((e) => log.warn("session commands could not be read", { error: e as Error }));
  const stopCommands = await store.commands.onCommandWrite(relayCommands);
  // The poll doubles as the store's health check: readiness, API answers and feed pings follow it.
  const feedPoll = setInterval(() => void hub.sync().then(() => {
    if (!svc.storeHealth.fresh) log.info("the auth store is reachable again");
    svc.storeHealth.ok();
    relayCommands();
  }, (e) => {
    if (svc.storeHealth.fresh) log.error("the auth store is unreachable; answering 503 and closing feeds until it returns", { error: e as Error });
    svc.storeHealth.failed(e);
    hub.closeAll(1013, "auth store unavailable");
  }), FEED_POLL_MS);
  const refreshMetrics = authMetrics(metrics, svc, hub);
  const routes = [...publicRoutes(tls.caCertPem), ...nodeRoutes(), ...resourceRoutes(), ...adminRoutes(tls.caCertPem), ...eventRoutes(), ...semaphoreRoutes(), ...sessionRoutes(), ...recordingRoutes(ingest), ...addons.flatMap((a) => a.routes())];
  const authDeps = { store, locks: () => svc.locks(), userCaBlob: cas.user.publicBlob, replay: new ReplayGuard(store, TOKEN_WINDOW_MS), now: () => new Date() };
  const api = createApi(routes, svc, authDeps, log);
  const server = listenOrExplain(cfg.listen, () => Bun.serve<WatchSocketData, never>({
    hostname: cfg.listen.host,
    port: cfg.listen.port,
    maxRequestBodySize: largestBody(routes),
    tls: { cert: tls.serverCertPem, key: tls.serverKeyPem },
    fetch: api,
    websocket: {
      open: (ws) => void hub.add(ws),
      close: (ws) => hub.remove(ws),
      message: () => {},
      idleTimeout: 60,
      sendPings: true,
    },
  }));
  const port = server.port ?? cfg.listen.port;
  const authAddr = cfg.publicAddr ?? formatHostPort({ host: cfg.listen.host === "0.0.0.0" ? "127.0.0.1" : cfg.listen.host, port });
  const adminIdentityPath = join(cfg.dataDir, "admin.identity");
  await ensureAdminIdentity(adminIdentityPath, svc, authAddr, tls.caCertPem);
  const started: { url?: string; stop(): Promise<void> }[] = [];
  for (const a of addons) {
    started.push(await a.start({
      cfg, svc, tls, log,
      apiAs: (identify) => createApi(routes, svc, authDeps, log, identify) as (req: Request, server: unknown) => Promise<Response | undefined>,
      person: (name) => personCaller(name, authDeps, new Date()),
    }));
  }
  const diag = cfg.diagAddr ? startDiagServer(cfg.diagAddr, { ready: () => (svc.storeHealth.fresh ? { ok: true } : { ok: false, reason: svc.storeHealth.reason }), metrics: async () => { await refreshMetrics(); return metrics.render(); } }) : undefined;
  log.info("auth service started", { listen: formatHostPort({ host: cfg.listen.host, port }), ca_pin: caPin, data_dir: cfg.dataDir, store: redactUrl(cfg.store.url) });
  return {
    svc, port, caPin, caCertPem: tls.caCertPem, adminIdentityPath, diagPort: diag?.port, addonUrls: started.flatMap((a) => (a.url ? [a.url] : [])),
    async stop() {
      for (const a of started) await a.stop();
      clearInterval(sweeper);
      clearInterval(feedPoll);
      await stopListening().catch(() => {});
      await stopCommands().catch(() => {});
      await replica.stop();
      hub.close();
      server.stop(true);
      partChecker.close();
      diag?.stop(true);
      await store.close();
    },
  };
}

/** First start: built-in roles, default cluster_config and the admin user. Later starts leave edits alone. */
async function seed(svc: AuthService): Promise<void> {
  // Under a lock: replicas starting together seed once.
  await svc.store.atomically(async (s) => {
    await s.lock("admins");
    for (const role of builtinRoles()) if (!(await s.getResource("role", role.name))) await s.putResource(role);
    if (!(await s.getResource("cluster_config", "cluster_config"))) await s.putResource(DEFAULT_CLUSTER_CONFIG);
    if (!(await s.getResource("user", "admin"))) await s.putResource({ kind: "user", name: "admin", roles: ["admin"] });
  });
}

/**
 * Registers this replica (and keeps its row fresh). With recordings in a file:// directory
 * that is not marked shared, a second live replica would keep half of every recording
 * where the others cannot read it: refused at start.
 */
async function joinReplicas(store: Store, cfg: AuthConfig, log: Logger): Promise<{ id: string; stop(): Promise<void> }> {
  const id = randomUUID();
  const addr = cfg.publicAddr ?? formatHostPort(cfg.listen);
  const others = (await liveReplicas(store, new Date())).filter((r) => r.id !== id);
  if (others.length && cfg.recordings.storage.startsWith("file://") && !cfg.recordings.shared) {
    await store.close();
    throw new Error(`refusing to start: another auth replica (${others[0]!.addr}) uses this store, and recordings.storage is ` +
      `${cfg.recordings.storage}, a directory on this machine the other replicas cannot read; use s3:// storage, ` +
      "or a directory every replica mounts and set [recordings] shared = true");
  }
  await store.heartbeatReplica(id, addr, new Date());
  const timer = setInterval(() => void store.heartbeatReplica(id, addr, new Date()).catch((e) => log.warn("replica heartbeat failed", { error: e as Error })), REPLICA_HEARTBEAT_MS);
  return {
    id,
    async stop() {
      clearInterval(timer);
      await store.removeReplica(id).catch(() => {});
    },
  };
}

/** Registers the gauges on `m`; returns the refresh that reads the store's figures before each scrape. */
function authMetrics(m: Metrics, svc: AuthService, hub: WatchHub): () => Promise<void> {
  let nodes = { online: 0, offline: 0, locked: 0 };
  let revision = 0;
  m.gauge("hostward_auth_watchers", "Agents connected to the change feed.", () => hub.size);
  m.gauge("hostward_auth_nodes", "Registered nodes by state.", () => Object.entries(nodes).map(([state, n]) => [{ state }, n]));
  m.gauge("hostward_auth_locks", "Locks in force.", () => svc.activeLocks().length);
  m.gauge("hostward_auth_revision", "Current change-feed revision.", () => revision);
  const refreshSessionControl = addSessionControlMetrics(m, svc);
  return async () => {
    const counts = { online: 0, offline: 0, locked: 0 };
    for (const n of await svc.store.listNodes()) counts[svc.nodeState(n)]++;
    nodes = counts;
    revision = await svc.store.revision();
    await refreshSessionControl();
  };
}

/** Bun's bind error does not say which address; the operator needs to know. */
function listenOrExplain<T>(addr: AuthConfig["listen"], listen: () => T): T {
  try {
    return listen();
  } catch (e) {
    throw new Error(`cannot listen on ${formatHostPort(addr)} for the auth API: ${(e as Error).message}`);
  }
}
