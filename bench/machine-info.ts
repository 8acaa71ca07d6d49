// What the numbers were measured on: CPUs, kernel, Bun, the OpenSSH client and server
// packages, the hostward commit and the time.
import { availableParallelism, cpus, release } from "node:os";
import { runCaptured } from "./run-captured.ts";

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  kernel: string;
  bunVersion: string;
  sshVersion: string;
  opensshServerPackage: string;
  hostwardCommit: string;
  date: string;
}

export async function machineInfo(root: string): Promise<MachineInfo> {
  const ssh = await runCaptured(["ssh", "-V"], 10_000);
  const pkg = await runCaptured(["dpkg-query", "-W", "-f", "${Version}", "openssh-server"], 10_000).catch(() => undefined);
  const git = await runCaptured(["git", "rev-parse", "--short", "HEAD"], 10_000, root).catch(() => undefined);
  return {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? "unknown",
    kernel: release(),
    bunVersion: Bun.version,
    sshVersion: (ssh.stderr || ssh.stdout).trim(),
    opensshServerPackage: pkg?.code === 0 ? pkg.stdout.trim() : "unknown",
    hostwardCommit: git?.code === 0 ? git.stdout.trim() : "unknown",
    date: new Date().toISOString(),
  };
}
