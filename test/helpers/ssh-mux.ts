// A real OpenSSH ControlMaster connection: one SSH connection that later `ssh`
// invocations multiplex their session channels over.
import { join } from "node:path";
import { run, waitFor, type RunResult } from "./process.ts";

export interface SshMux {
  /** ssh argv for one more session over the master connection (add the command). */
  args(extra?: string[]): string[];
  run(command: string[], opts?: { stdin?: string }): Promise<RunResult>;
  exit(): Promise<void>;
}

/** Starts a persistent master with `sshArgv` (ssh options and destination, no command). */
export async function openMux(sshArgv: string[], dir: string, name: string): Promise<SshMux> {
  const path = join(dir, `mux-${name}`);
  const [ssh, ...rest] = sshArgv;
  const dest = rest.at(-1)!;
  const opts = rest.slice(0, -1);
  const control = ["-o", `ControlPath=${path}`];
  const master = await run([ssh!, ...opts, "-o", "ControlMaster=yes", ...control, "-o", "ControlPersist=120", "-N", "-f", dest], { timeoutMs: 15_000 });
  if (master.code !== 0) throw new Error(`ControlMaster did not start (${master.code}): ${master.stderr}`);
  const args = (extra: string[] = []) => [ssh!, ...opts, "-o", "ControlMaster=no", ...control, ...extra, dest];
  await waitFor(async () => (await run([ssh!, ...control, "-O", "check", dest])).code === 0, 10_000, "ControlMaster ready", 100);
  return {
    args,
    run: (command, o = {}) => run([...args(), ...command], { stdin: o.stdin }),
    async exit() {
      await run([ssh!, ...control, "-O", "exit", dest]);
    },
  };
}
