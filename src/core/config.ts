// The two config files, auth.toml and agent.toml: validation and every default.
// Takes the parsed TOML value and the file name for messages; the caller reads the file.

import { parseByteSize } from "./byte-size.ts";
import { ms, type Duration } from "./duration.ts";
import { parseHostPort, type HostPort } from "./host-port.ts";
import { isValidName } from "./resource-types.ts";
import { describe, TableReader } from "./table-reader.ts";
import { parseTomlText } from "./toml-text.ts";

/** Who sees "this session is being recorded": PTY sessions (default), every session, or none. */
export const RECORDING_NOTICES = ["interactive", "always", "never"] as const;
export type RecordingNotice = (typeof RECORDING_NOTICES)[number];

export type LogLevel = "debug" | "info" | "warn" | "error";
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const satisfies readonly LogLevel[];
export const AUTH_PORT = 3025;
export const SSH_PORT = 3022;

export interface AuthConfig {
  dataDir: string;
  listen: HostPort;
  clusterName: string;
  diagAddr?: HostPort;
  logLevel: LogLevel;
  recordings: { storage: string; shared: boolean };
  publicAddr?: string;
  /** sqlite://<absolute path> or postgres://…; pool: connections per replica (PostgreSQL). */
  store: { url: string; pool: number };
  /** The web console's own listener; absent = no console. */
  web?: WebConfig;
}

export interface WebConfig {
  listen: HostPort;
  /** The operator's certificate and key (PEM files); else one from the cluster CA. */
  certFile?: string;
  keyFile?: string;
  /** The console's address as people's browsers reach it, for sign-in links (default: https://listen). */
  publicUrl?: string;
}

export const WEB_PORT = 3080;

export interface AgentConfig {
  dataDir: string;
  authServer: HostPort;
  /** Several auth replicas (or one name with several addresses): tried in turn, the next on failure. */
  authServers?: HostPort[];
  joinToken?: string;
  caPin?: string;
  diagAddr?: HostPort;
  logLevel: LogLevel;
  ssh: {
    listen: HostPort; labels: Record<string, string>; advertiseAddr?: string;
    /** Like sshd's LoginGraceTime: an unauthenticated connection is closed (its fd released) at this age. */
    loginGraceTime: Duration;
    /** Like sshd's MaxStartups (as one hard limit): unauthenticated connections beyond it are refused. */
    maxStartups: number;
  };
  recording: { notice: RecordingNotice; minFree: number; syncTimeout: Duration; recordStdin: boolean };
}

const _AUTH_KEYS = ["data_dir", "listen", "cluster_name", "diag_addr", "log_level", "recordings", "public_addr", "web", "store"];
const _AGENT_KEYS = ["data_dir", "auth_server", "auth_servers", "join_token", "ca_pin", "diag_addr", "log_level", "ssh", "recording"];
const _PIN = /^sha256:[0-9a-f]{64}$/;

/** TOML text to a value for parseAuthConfig / parseAgentConfig; syntax errors carry the line. */
export function parseConfigText(text: string, file: string): unknown {
  return parseTomlText(text, file);
}

export function parseAuthConfig(obj: unknown, file: string): AuthConfig {
  const r = TableReader.of(obj, file, "", _AUTH_KEYS);
  const dataDir = _path(r, "data_dir") ?? "/var/lib/hostward/auth";
  const clusterName = r.string("cluster_name") ?? "hostward";
  if (!isValidName("role", clusterName)) r.fail("cluster_name", `must be a simple name, got ${describe(clusterName)}`);
  const rec = r.table("recordings", ["storage", "shared"]);
  const store = r.table("store", ["url", "pool"]);
  const cfg: AuthConfig = {
    dataDir,
    listen: _addr(r, "listen", AUTH_PORT) ?? { host: "0.0.0.0", port: AUTH_PORT },
    clusterName,
    logLevel: r.oneOf("log_level", LOG_LEVELS) ?? "info",
    recordings: { storage: (rec && _storage(rec)) ?? `file://${dataDir.replace(/\/+$/, "")}/recordings`, shared: rec?.bool("shared") ?? false },
    store: { url: (store && _storeUrl(store)) ?? `sqlite://${dataDir.replace(/\/+$/, "")}/auth.db`, pool: (store && _pool(store)) ?? 10 },
  };
  const diag = _addr(r, "diag_addr");
  if (diag) cfg.diagAddr = diag;
  const publicAddr = r.string("public_addr");
  if (publicAddr) {
    _addr(r, "public_addr", AUTH_PORT);
    cfg.publicAddr = publicAddr;
  }
  const web = _web(r.table("web", ["listen", "cert_file", "key_file", "public_url"]));
  if (web) cfg.web = web;
  return cfg;
}

function _web(r: TableReader | undefined): WebConfig | undefined {
  const listen = r && _addr(r, "listen", WEB_PORT);
  if (!r || !listen) return undefined;
  const web: WebConfig = { listen };
  const cert = _path(r, "cert_file");
  const key = _path(r, "key_file");
  if ((cert === undefined) !== (key === undefined)) r.fail(cert === undefined ? "cert_file" : "key_file", "cert_file and key_file go together");
  if (cert && key) Object.assign(web, { certFile: cert, keyFile: key });
  const url = r.string("public_url");
  if (url) {
    if (!/^https:\/\/[^/?#\s]+\/?$/.test(url)) r.fail("public_url", `must be https://HOST[:PORT], got ${describe(url)}`);
    web.publicUrl = url.replace(/\/$/, "");
  }
  return web;
}

export function parseAgentConfig(obj: unknown, file: string): AgentConfig {
  const r = TableReader.of(obj, file, "", _AGENT_KEYS);
  const cfg: AgentConfig = {
    dataDir: _path(r, "data_dir") ?? "/var/lib/hostward/agent",
    authServer: _addr(r, "auth_server", AUTH_PORT) ?? { host: "127.0.0.1", port: AUTH_PORT },
    logLevel: r.oneOf("log_level", LOG_LEVELS) ?? "info",
    ssh: _ssh(r.table("ssh", ["listen", "labels", "advertise_addr", "login_grace_time", "max_startups"])),
    recording: _recording(r.table("recording", ["notice", "hide_notice", "min_free", "sync_timeout", "record_stdin"])),
  };
  const joinToken = r.string("join_token");
  if (joinToken) cfg.joinToken = joinToken;
  const caPin = r.string("ca_pin");
  if (caPin) {
    if (!_PIN.test(caPin.toLowerCase())) r.fail("ca_pin", `must be "sha256:" followed by 64 hex digits, got ${describe(caPin)}`);
    cfg.caPin = caPin.toLowerCase();
  }
  const diag = _addr(r, "diag_addr");
  if (diag) cfg.diagAddr = diag;
  const servers = r.stringList("auth_servers");
  if (servers) {
    if (servers.length === 0) r.fail("auth_servers", "must list at least one address");
    cfg.authServers = servers.map((s) => {
      try {
        return parseHostPort(s, AUTH_PORT);
      } catch (e) {
        return r.fail("auth_servers", (e as Error).message);
      }
    });
    // The first start joins through the first of them unless auth_server says otherwise.
    if (!r.string("auth_server")) cfg.authServer = cfg.authServers[0]!;
  }
  return cfg;
}

function _ssh(r: TableReader | undefined): AgentConfig["ssh"] {
  const ssh: AgentConfig["ssh"] = {
    listen: (r && _addr(r, "listen", SSH_PORT)) ?? { host: "0.0.0.0", port: SSH_PORT },
    labels: _labels(r?.table("labels", "any")),
    loginGraceTime: r?.duration("login_grace_time") ?? ms(60_000),
    maxStartups: (r && _maxStartups(r)) ?? 100,
  };
  const advertise = r?.string("advertise_addr");
  if (advertise) {
    _addr(r!, "advertise_addr", SSH_PORT);
    ssh.advertiseAddr = advertise;
  }
  return ssh;
}

function _labels(r: TableReader | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!r) return labels;
  for (const k of r.keys()) {
    if (k === "" || /\s/.test(k)) r.fail(JSON.stringify(k), "label names must be non-empty without whitespace");
    labels[k] = r.string(k)!;
  }
  return labels;
}

function _recording(r: TableReader | undefined): AgentConfig["recording"] {
  return {
    // hide_notice = true (older configs) means "never"; an explicit notice wins.
    notice: r?.oneOf("notice", RECORDING_NOTICES) ?? (r?.bool("hide_notice") ? "never" : "interactive"),
    minFree: (r && _byteSize(r, "min_free")) ?? 2 ** 30,
    syncTimeout: r?.duration("sync_timeout") ?? ms(30_000),
    recordStdin: r?.bool("record_stdin") ?? false,
  };
}

/** An address key; empty string means "not set" (that is how diag_addr is turned off). */
function _addr(r: TableReader, k: string, defaultPort?: number): HostPort | undefined {
  const v = r.string(k);
  if (!v) return undefined;
  try {
    return parseHostPort(v, defaultPort);
  } catch (e) {
    r.fail(k, (e as Error).message);
  }
}

function _path(r: TableReader, k: string): string | undefined {
  const v = r.string(k);
  if (v === "") r.fail(k, "must not be empty");
  return v;
}

function _byteSize(r: TableReader, k: string): number | undefined {
  const v = r.raw(k);
  if (v === undefined) return undefined;
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v !== "string") r.fail(k, `expected a size like "1GiB", got ${describe(v)}`);
  try {
    return parseByteSize(v);
  } catch (e) {
    r.fail(k, (e as Error).message);
  }
}

function _storeUrl(r: TableReader): string | undefined {
  const v = r.string("url");
  if (v === undefined) return undefined;
  if (!/^sqlite:\/\/\/./.test(v) && !/^postgres(ql)?:\/\/[^/?#]+\/[^/?#]+(\?.*)?$/.test(v)) {
    r.fail("url", `must be sqlite:///ABSOLUTE/PATH or postgres://USER@HOST:PORT/DATABASE?sslmode=…, got ${describe(v.replace(/:[^:@/]*@/, ":***@"))}`);
  }
  return v;
}

function _maxStartups(r: TableReader): number | undefined {
  const v = r.positiveInt("max_startups");
  if (v !== undefined && v > 100_000) r.fail("max_startups", `must be at most 100000, got ${v}`);
  return v;
}

function _pool(r: TableReader): number | undefined {
  const v = r.positiveInt("pool");
  if (v !== undefined && v > 1000) r.fail("pool", `must be at most 1000, got ${v}`);
  return v;
}

function _storage(r: TableReader): string | undefined {
  const v = r.string("storage");
  if (v === undefined) return undefined;
  const file = /^file:\/\/(\/.*)$/.exec(v);
  const s3 = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,62}(\/[^?]*)?(\?.*)?$/.exec(v);
  if (!file && !s3) {
    r.fail("storage", `must be file:///ABSOLUTE/DIR or s3://BUCKET/PREFIX?endpoint=HOST:PORT, got ${describe(v)}`);
  }
  return v;
}
