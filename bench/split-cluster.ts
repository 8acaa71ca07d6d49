// An auth service and one agent as separate hostward processes on loopback (as they
// run in production), with a user allowed to log in as the current OS user and an
// ssh_config whose `Host node` entry logs straight in.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { devSshConfig } from "../src/dev/ssh-config.ts";
import { readIdentity } from "../src/platform/identity-file.ts";
import { freePort } from "./free-port.ts";
import type { HostwardCommand } from "./hostward-build.ts";
import { runCaptured, tail } from "./run-captured.ts";
import { startService, type Service } from "./service-process.ts";
import type { SshTarget } from "./ssh-client.ts";

const READY_TIMEOUT_MS = 30_000;

export interface SplitCluster {
  authAddr: string;
  caCertPem: string;
  agentServerId: string;
  target: SshTarget;
  pids: { auth: number; agent: number };
  ctl(...args: string[]): Promise<string>;
  /** Replaces the [options] body of the user's role (the agent sees it with the next feed push). */
  setRoleOptions(body: string): Promise<void>;
  stop(): Promise<void>;
}

/** Starts both in dir (absolute, empty); `user` gets one role, `roleOptions` its [options] body. */
export async function startSplitCluster(dir: string, hw: HostwardCommand, login: string, user: string, roleOptions: string): Promise<SplitCluster> {
  const services: Service[] = [];
  const stop = async () => {
    for (const s of services.reverse()) await s.stop();
  };
  try {
    const authPort = await freePort();
    const authAddr = `127.0.0.1:${authPort}`;
    writeFileSync(join(dir, "auth.toml"), `data_dir = "${dir}/auth"\nlisten = "${authAddr}"\nlog_level = "info"\n`);
    services.push(await startService("hostward auth", [...hw.cmd, "auth", "start", "--config", join(dir, "auth.toml")], /"auth service started"/, READY_TIMEOUT_MS));
    const identity = join(dir, "auth", "admin.identity");
    const ctl = async (...args: string[]) => {
      const r = await runCaptured([...hw.cmd, "ctl", "--identity", identity, ...args], 30_000);
      if (r.code !== 0) throw new Error(`ctl ${args.join(" ")}: ${tail(r.stderr)}`);
      return r.stdout;
    };
    const { token, ca_pin } = JSON.parse(await ctl("tokens", "add", "--format", "json")) as { token: string; ca_pin: string };
    const sshPort = await freePort();
    const agentDiag = `127.0.0.1:${await freePort()}`;
    writeFileSync(join(dir, "agent.toml"), `data_dir = "${dir}/agent"\nauth_server = "${authAddr}"\njoin_token = "${token}"\nca_pin = "${ca_pin}"\nlog_level = "info"\ndiag_addr = "${agentDiag}"\n[ssh]\nlisten = "127.0.0.1:${sshPort}"\n`);
    services.push(await startService("hostward agent", [...hw.cmd, "agent", "start", "--config", join(dir, "agent.toml")], /"agent started"/, READY_TIMEOUT_MS));
    const setRoleOptions = async (body: string) => {
      writeFileSync(join(dir, "role.toml"), `kind = "role"\nname = "bench"\n[options]\n${body}\n[allow]\nlogins = ["${login}"]\n`);
      await ctl("create", "-f", join(dir, "role.toml"));
      await agentCaughtUp(agentDiag, JSON.parse(await ctl("status", "--format", "json")).revision);
    };
    await setRoleOptions(roleOptions);
    await ctl("users", "add", user, "--roles", "bench");
    const keygen = await runCaptured(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", join(dir, "id_ed25519")], 10_000);
    if (keygen.code !== 0) throw new Error(`ssh-keygen: ${tail(keygen.stderr)}`);
    await ctl("users", "sign", user, "--pubkey", join(dir, "id_ed25519.pub"), "--ttl", "2h", "--out", join(dir, "id_ed25519-cert.pub"));
    writeFileSync(join(dir, "known_hosts"), await ctl("known-hosts"));
    writeFileSync(join(dir, "ssh_config"), devSshConfig({ dir, port: sshPort, login }));
    return {
      authAddr,
      caCertPem: readIdentity(identity).caCertPem,
      agentServerId: readIdentity(join(dir, "agent", "identity")).serverId!,
      target: { name: "hostward", configFile: join(dir, "ssh_config"), clientOptions: [] },
      pids: { auth: services[0]!.proc.pid, agent: services[1]!.proc.pid },
      ctl,
      setRoleOptions,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Waits until the agent's view holds `revision` (its /metrics says so), at most 10 s. */
async function agentCaughtUp(diag: string, revision: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const text = await fetch(`http://${diag}/metrics`).then((r) => r.text()).catch(() => "");
    const rev = Number(text.match(/^hostward_agent_view_revision (\d+)$/m)?.[1] ?? -1);
    if (rev >= revision) return;
    await Bun.sleep(20);
  }
  throw new Error(`the agent did not reach revision ${revision} within 10 s`);
}
