// `hostward dev` (auth service + agent in one process) on free loopback ports, ready
// once it prints "Log in with:"; its ssh_config has the `Host node` entry to log in.
import { join } from "node:path";
import { freePort } from "./free-port.ts";
import type { HostwardCommand } from "./hostward-build.ts";
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
  const cmd = [...hostward.cmd, "dev", "--dir", dir, "--auth-port", String(authPort), "--ssh-port", String(sshPort)];
  const service = await startService("hostward dev", cmd, /Log in with:/, READY_TIMEOUT_MS, cwd);
  return { service, sshPort, target: { name: "hostward", configFile: join(dir, "ssh_config"), clientOptions: [] } };
}
