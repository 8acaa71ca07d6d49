import { describe, expect, test } from "bun:test";
import {
  parseAgentConfig, parseAuthConfig, parseConfigText, type AgentConfig, type AuthConfig,
} from "../../src/core/config.ts";
import { ms } from "../../src/core/duration.ts";
import { ValidationError } from "../../src/core/validation-error.ts";

const PIN = "sha256:" + "ab".repeat(32);
const auth = (text: string) => parseAuthConfig(parseConfigText(text, "auth.toml"), "auth.toml");
const agent = (text: string) => parseAgentConfig(parseConfigText(text, "agent.toml"), "agent.toml");

const AUTH_DEFAULTS: AuthConfig = {
  dataDir: "/var/lib/hostward/auth",
  listen: { host: "0.0.0.0", port: 3025 },
  clusterName: "hostward",
  logLevel: "info",
  recordings: { storage: "file:///var/lib/hostward/auth/recordings", shared: false },
  store: { url: "sqlite:///var/lib/hostward/auth/auth.db", pool: 10 },
};

const AGENT_DEFAULTS: AgentConfig = {
  dataDir: "/var/lib/hostward/agent",
  authServer: { host: "127.0.0.1", port: 3025 },
  logLevel: "info",
  ssh: { listen: { host: "0.0.0.0", port: 3022 }, labels: {}, loginGraceTime: ms(60_000), maxStartups: 100 },
  recording: { notice: "interactive", minFree: 2 ** 30, syncTimeout: ms(30_000), recordStdin: false },
};

describe("parseAuthConfig", () => {
  const good: [string, string, AuthConfig][] = [
    ["empty file", "", AUTH_DEFAULTS],
    ["the full example", `data_dir = "/var/lib/hostward/auth"\nlisten = "0.0.0.0:3025"\ncluster_name = "hostward"\ndiag_addr = ""\nlog_level = "info"\n[recordings]\nstorage = "file:///var/lib/hostward/auth/recordings"`, AUTH_DEFAULTS],
    ["storage follows data_dir", 'data_dir = "/srv/hw/"', { ...AUTH_DEFAULTS, dataDir: "/srv/hw/", recordings: { storage: "file:///srv/hw/recordings", shared: false }, store: { url: "sqlite:///srv/hw/auth.db", pool: 10 } }],
    ["everything set", 'listen = "[::]:443"\ncluster_name = "prod"\ndiag_addr = "127.0.0.1:3001"\nlog_level = "debug"\npublic_addr = "auth.example.com"\n[recordings]\nstorage = "s3://bucket/prefix?endpoint=minio:9000&region=us-east-1"',
      { ...AUTH_DEFAULTS, listen: { host: "::", port: 443 }, clusterName: "prod", diagAddr: { host: "127.0.0.1", port: 3001 }, logLevel: "debug", publicAddr: "auth.example.com", recordings: { storage: "s3://bucket/prefix?endpoint=minio:9000&region=us-east-1", shared: false } }],
    ["a PostgreSQL store and a shared recordings path", '[store]\nurl = "postgres://hostward@db.example.com:5432/hostward?sslmode=verify-full"\npool = 20\n[recordings]\nstorage = "file:///mnt/shared/rec"\nshared = true',
      { ...AUTH_DEFAULTS, store: { url: "postgres://hostward@db.example.com:5432/hostward?sslmode=verify-full", pool: 20 }, recordings: { storage: "file:///mnt/shared/rec", shared: true } }],
    ["listen without port", 'listen = "10.0.0.1"', { ...AUTH_DEFAULTS, listen: { host: "10.0.0.1", port: 3025 } }],
  ];
  test.each(good)("%s", (_, text, want) => {
    expect(auth(text)).toEqual(want);
  });
});

describe("parseAgentConfig", () => {
  const good: [string, string, AgentConfig][] = [
    ["empty file", "", AGENT_DEFAULTS],
    ["the full example", `data_dir = "/var/lib/hostward/agent"\nauth_server = "auth.example.com:3025"\njoin_token = "tok"\nca_pin = "${PIN}"\ndiag_addr = ""\nlog_level = "info"\n[ssh]\nlisten = "0.0.0.0:3022"\nlabels = { env = "prod" }\n[recording]\nhide_notice = false\nmin_free = "1GiB"\nsync_timeout = "30s"`,
      { ...AGENT_DEFAULTS, authServer: { host: "auth.example.com", port: 3025 }, joinToken: "tok", caPin: PIN, ssh: { ...AGENT_DEFAULTS.ssh, labels: { env: "prod" } } }],
    ["several auth replicas", 'auth_servers = ["a.example:3025", "b.example"]', { ...AGENT_DEFAULTS, authServer: { host: "a.example", port: 3025 }, authServers: [{ host: "a.example", port: 3025 }, { host: "b.example", port: 3025 }] }],
    ["auth_server without port, empty join_token, upper-case pin", `auth_server = "auth"\njoin_token = ""\nca_pin = "${PIN.toUpperCase().replace("SHA256", "sha256")}"`,
      { ...AGENT_DEFAULTS, authServer: { host: "auth", port: 3025 }, caPin: PIN }],
    ["recording and ssh settings", '[ssh]\nlisten = "127.0.0.1"\nadvertise_addr = "10.0.0.5:22"\n[recording]\nhide_notice = true\nmin_free = 1048576\nsync_timeout = "1m"\nrecord_stdin = true',
      { ...AGENT_DEFAULTS, ssh: { ...AGENT_DEFAULTS.ssh, listen: { host: "127.0.0.1", port: 3022 }, advertiseAddr: "10.0.0.5:22" }, recording: { notice: "never", minFree: 1_048_576, syncTimeout: ms(60_000), recordStdin: true } }],
  ];
  test.each(good)("%s", (_, text, want) => {
    expect(agent(text)).toEqual(want);
  });
});

const bad: [(text: string) => unknown, string, string][] = [
  [auth, "listen = 3025", "auth.toml: listen: expected a string, got 3025"],
  [auth, 'listen = "0.0.0.0:99999"', 'auth.toml: listen: bad address "0.0.0.0:99999": port must be a number from 0 to 65535'],
  [auth, 'diag_addr = ":3001"', 'auth.toml: diag_addr: bad address ":3001": missing host (use "0.0.0.0" for all interfaces)'],
  [auth, 'log_level = "verbose"', 'auth.toml: log_level: must be one of "debug", "info", "warn", "error", got "verbose"'],
  [auth, 'cluster_name = "my cluster"', 'auth.toml: cluster_name: must be a simple name, got "my cluster"'],
  [auth, 'data_dir = ""', "auth.toml: data_dir: must not be empty"],
  [auth, 'listn = "x"', "auth.toml: listn: unknown key"],
  [auth, '[recordings]\nstorage = "/var/rec"', 'auth.toml: recordings.storage: must be file:///ABSOLUTE/DIR or s3://BUCKET/PREFIX?endpoint=HOST:PORT, got "/var/rec"'],
  [auth, '[recordings]\nstorage = "file://rel/dir"', 'auth.toml: recordings.storage: must be file:///ABSOLUTE/DIR or s3://BUCKET/PREFIX?endpoint=HOST:PORT, got "file://rel/dir"'],
  [auth, '[recordings]\nbucket = "x"', "auth.toml: recordings.bucket: unknown key"],
  [auth, '[store]\nurl = "mysql://db/x"', 'auth.toml: store.url: must be sqlite:///ABSOLUTE/PATH or postgres://USER@HOST:PORT/DATABASE?sslmode=…, got "mysql://db/x"'],
  [auth, '[store]\nurl = "postgres://u:secret@db/x#"', 'auth.toml: store.url: must be sqlite:///ABSOLUTE/PATH or postgres://USER@HOST:PORT/DATABASE?sslmode=…, got "postgres://u:***@db/x#"'],
  [auth, '[store]\npool = 0', 'auth.toml: store.pool: must be a positive integer, got 0'],
  [auth, 'public_addr = "a b"', 'auth.toml: public_addr: bad address "a b": host must be a hostname or IP address'],
  [agent, 'ca_pin = "sha256:abc"', 'agent.toml: ca_pin: must be "sha256:" followed by 64 hex digits, got "sha256:abc"'],
  [agent, `ca_pin = "${"ab".repeat(32)}"`, `agent.toml: ca_pin: must be "sha256:" followed by 64 hex digits, got "${"ab".repeat(30)}…"`],
  [agent, 'auth_servers = []', "agent.toml: auth_servers: must list at least one address"],
  [agent, 'auth_servers = ["a:1", "::1"]', 'agent.toml: auth_servers: bad address "::1": IPv6 addresses need brackets, e.g. "[::1]:3025"'],
  [agent, 'auth_server = "::1"', 'agent.toml: auth_server: bad address "::1": IPv6 addresses need brackets, e.g. "[::1]:3025"'],
  [agent, 'join_token = 5', "agent.toml: join_token: expected a string, got 5"],
  [agent, "[ssh]\nlabels = { env = 1 }", "agent.toml: ssh.labels.env: expected a string, got 1"],
  [agent, '[ssh]\nport = 22', "agent.toml: ssh.port: unknown key"],
  [agent, 'ssh = "x"', 'agent.toml: ssh: expected a table, got "x"'],
  [agent, '[recording]\nmin_free = "1 gigabyte"', 'agent.toml: recording.min_free: bad byte size "1 gigabyte": unknown unit "gigabyte" (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)'],
  [agent, "[recording]\nmin_free = -1", "agent.toml: recording.min_free: expected a size like \"1GiB\", got -1"],
  [agent, '[recording]\nsync_timeout = "30"', 'agent.toml: recording.sync_timeout: bad duration "30": missing unit after "30" (use ms, s, m or h)'],
  [agent, '[recording]\nhide_notice = "no"', 'agent.toml: recording.hide_notice: expected true or false, got "no"'],
  [agent, 'log_level = "info"\nlog_level = "debug"', "agent.toml: line 2, column 20: bad TOML: Can't redefine existing key"],
  [agent, "[ssh\nlisten = 1", "agent.toml: line 1, column 6: bad TOML: Unexpected character, expected whitespace, . or ]"],
];

describe("config errors", () => {
  for (const [parse, text, message] of bad) test(message, () => {
    let err: unknown;
    try {
      parse(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toBe(message);
  });

  test("a config that is not a table", () => {
    expect(() => parseAuthConfig([], "auth.toml")).toThrow("auth.toml: expected a table, got an array");
  });
});
