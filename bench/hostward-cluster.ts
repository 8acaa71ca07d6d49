// `hostward dev` (auth service + agent in one process) on free loopback ports, ready
// once it prints "Log in with:"; its ssh_config has the `Host node` entry to log in.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./free-port.ts";
import type { HostwardCommand } from "./hostward-build.ts";
import { runCaptured, tail } from "./run-captured.ts";
import { startService, type Service } from "./service-process.ts";
import type { SshTarget } from "./ssh-client.ts";

const READY_TIMEOUT_MS = 30_000;

export interface HostwardCluster {
  service: Service;
  target: SshTarget;
  sshPort: number;
}

/** Starts hostward dev with its data in dir (absolute, empty). */
export async function startHostward(dir: string, hostward: HostwardCommand, cwd: string): Promise<HostwardCluster> {
  const authPort = await freePort();
  const sshPort = await freePort();
  // Every port free, so a bench never collides with a `hostward dev` already running here.
  const more = ["--diag-port", "--agent-diag-port", "--web-port"];
  const morePorts = (await Promise.all(more.map(async (flag) => [flag, String(await freePort())]))).flat();
  const cmd = [...hostward.cmd, "dev", "--dir", dir, "--auth-port", String(authPort), "--ssh-port", String(sshPort), ...morePorts];
  const service = await startService("hostward dev", cmd, /Log in with:/, READY_TIMEOUT_MS, cwd);
  return { service, sshPort, target: { name: "hostward", configFile: join(dir, "ssh_config"), clientOptions: [] } };
}

/**
 * Turns session recording off and waits until the agent has applied it (a probe login
 * no longer shows the recording notice): sshd records nothing, so the foundation
 * comparison runs hostward without recording too; bench/recording.ts measures its cost.
 */
export async function recordingOff(dir: string, hostward: HostwardCommand): Promise<void> {
  const f = join(dir, "cluster-off.toml");
  writeFileSync(f, `kind = "cluster_config"\nsession_recording = "off"\n`);
  const r = await runCaptured([...hostward.cmd, "ctl", "--identity", join(dir, "admin.identity"), "create", "-f", f], 30_000);
  if (r.code !== 0) throw new Error(`ctl create cluster_config: ${tail(r.stderr)}`);
  for (let i = 0; i < 50; i++) {
    const probe = await runCaptured(["ssh", "-F", join(dir, "ssh_config"), "-o", "BatchMode=yes", "node", "true"], 10_000);
    if (probe.code === 0 && !/being recorded/.test(probe.stderr)) return;
    await Bun.sleep(100);
  }
  throw new Error("the agent did not turn recording off");
}
