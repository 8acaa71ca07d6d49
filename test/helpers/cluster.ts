// A real test cluster: the auth service and agents as separate processes on
// loopback, driven with ctl and the system's OpenSSH client.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, freePort, httpOk, run, startProc, waitFor, type Proc, type RunResult } from "./process.ts";

export interface Agent {
  name: string;
  dir: string;
  sshPort: number;
  diagPort: number;
  configPath: string;
  proc: Proc;
  serverId(): string;
  restart(opts?: { ready?: boolean }): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number>;
  /** Starts the process; waits for /readyz unless `ready` is false (a locked or stale node is not ready). */
  start(opts?: { ready?: boolean }): Promise<void>;
}

export interface SshUser {
  name: string;
  key: string;
  cert: string;
}

export class TestCluster {
  readonly dir = mkdtempSync(join(tmpdir(), "hostward-test-"));
  authPort = 0;
  authDiagPort = 0;
  auth!: Proc;
  readonly agents: Agent[] = [];
  readonly identity: string;

  constructor(private readonly authExtra = "") {
    this.identity = join(this.dir, "auth", "admin.identity");
  }

  get authAddr(): string {
    return `127.0.0.1:${this.authPort}`;
  }

  async startAuth(): Promise<void> {
    if (!this.authPort) [this.authPort, this.authDiagPort] = [await freePort(), await freePort()];
    const cfg = join(this.dir, "auth.toml");
    writeFileSync(cfg, `data_dir = "${this.dir}/auth"\nlisten = "127.0.0.1:${this.authPort}"\ndiag_addr = "127.0.0.1:${this.authDiagPort}"\nlog_level = "debug"\n${this.authExtra}`);
    this.auth = startProc([...CLI, "auth", "start", "--config", cfg]);
    await waitFor(async () => existsSync(this.identity) && (await httpOk(`http://127.0.0.1:${this.authDiagPort}/readyz`)), 20_000, "auth service ready");
  }

  async stopAuth(): Promise<void> {
    await this.auth.stop();
  }

  ctl(...args: string[]): Promise<RunResult> {
    return run([...CLI, "ctl", "--identity", this.identity, ...args]);
  }

  async ctlOk(...args: string[]): Promise<string> {
    const r = await this.ctl(...args);
    if (r.code !== 0) throw new Error(`ctl ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  }

  async token(): Promise<{ token: string; ca_pin: string }> {
    return JSON.parse(await this.ctlOk("tokens", "add", "--format", "json"));
  }

  /** Adds an agent process; `extra` is appended to its agent.toml, `env` is added to its environment; it joins through `authAddr`. */
  async addAgent(extra = "", labels = "", env: Record<string, string> = {}, authAddr = this.authAddr): Promise<Agent> {
    const name = `agent${this.agents.length + 1}`;
    const dir = join(this.dir, name);
    const [sshPort, diagPort] = [await freePort(), await freePort()];
    const { token, ca_pin } = await this.token();
    const configPath = join(this.dir, `${name}.toml`);
    writeFileSync(configPath, `data_dir = "${dir}"\nauth_server = "${authAddr}"\njoin_token = "${token}"\nca_pin = "${ca_pin}"\ndiag_addr = "127.0.0.1:${diagPort}"\nlog_level = "debug"\n${extra}\n[ssh]\nlisten = "127.0.0.1:${sshPort}"\n${labels}\n`);
    const agent: Agent = {
      name, dir, sshPort, diagPort, configPath,
      proc: undefined as unknown as Proc,
      serverId: () => readFileSync(join(dir, "host_uuid"), "utf8").trim(),
      start: async (opts = {}) => {
        agent.proc = startProc([...CLI, "agent", "start", "--config", configPath], { env });
        await agent.proc.waitForOutput(/"agent started"/, 20_000);
        if (opts.ready !== false) await waitFor(() => httpOk(`http://127.0.0.1:${diagPort}/readyz`), 10_000, `${name} ready`);
      },
      stop: (signal) => agent.proc.stop(signal),
      restart: async (opts) => {
        await agent.proc.stop();
        await agent.start(opts);
      },
    };
    await agent.start();
    this.agents.push(agent);
    return agent;
  }

  /** Creates a role (TOML body after kind/name) and a user holding it, and signs a certificate. */
  async addUser(name: string, roles: string[], opts: { ttl?: string } = {}): Promise<SshUser> {
    await this.ctlOk("users", "add", name, "--roles", roles.join(","));
    const key = join(this.dir, `${name}_key`);
    if (!existsSync(key)) await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key]);
    await this.ctlOk("users", "sign", name, "--pubkey", `${key}.pub`, "--ttl", opts.ttl ?? "1h", "--out", `${key}-cert.pub`);
    return { name, key, cert: `${key}-cert.pub` };
  }

  async createRole(name: string, body: string): Promise<void> {
    const f = join(this.dir, `role-${name}.toml`);
    writeFileSync(f, `kind = "role"\nname = "${name}"\n${body}\n`);
    await this.ctlOk("create", "-f", f);
  }

  async writeKnownHosts(): Promise<string> {
    const f = join(this.dir, "known_hosts");
    writeFileSync(f, await this.ctlOk("known-hosts"));
    return f;
  }

  /** ssh argv for logging in to an agent as `login` with a user's key and certificate. */
  sshArgs(agent: Agent, user: SshUser, login: string, extra: string[] = []): string[] {
    return [
      "ssh", "-F", "/dev/null", "-i", user.key, "-o", `CertificateFile=${user.cert}`, "-o", "IdentitiesOnly=yes",
      "-o", `UserKnownHostsFile=${join(this.dir, "known_hosts")}`, "-o", "GlobalKnownHostsFile=/dev/null",
      "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
      "-p", String(agent.sshPort), ...extra, `${login}@127.0.0.1`,
    ];
  }

  ssh(agent: Agent, user: SshUser, login: string, command: string[], opts: { extra?: string[]; stdin?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    return run([...this.sshArgs(agent, user, login, opts.extra), ...command], { stdin: opts.stdin, timeoutMs: opts.timeoutMs });
  }

  async close(): Promise<void> {
    await Promise.all(this.agents.map((a) => a.proc?.stop("SIGKILL")));
    await this.auth?.stop("SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }
}
