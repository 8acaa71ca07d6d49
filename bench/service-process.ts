// A long-running child process (sshd, hostward dev) started and considered ready once
// a given line shows in its output; stop() sends SIGTERM, then SIGKILL after a grace period.
import type { Subprocess } from "bun";
import { OutputWatcher } from "./output-watcher.ts";
import { tail } from "./run-captured.ts";

const STOP_GRACE_MS = 5_000;

export interface Service {
  name: string;
  proc: Subprocess;
  output: OutputWatcher;
  ready: RegExpMatchArray;
  stop(): Promise<void>;
}

export async function startService(name: string, cmd: string[], ready: RegExp, timeoutMs: number, cwd?: string): Promise<Service> {
  const proc = Bun.spawn({ cmd, cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const output = new OutputWatcher([proc.stdout, proc.stderr]);
  const stop = () => _stop(proc);
  try {
    const match = await output.waitFor(ready, timeoutMs);
    return { name, proc, output, ready: match, stop };
  } catch (e) {
    await stop();
    throw new Error(`${name} did not start: ${(e as Error).message}; output: ${tail(output.text)}`);
  }
}

async function _stop(proc: Subprocess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), STOP_GRACE_MS);
  await proc.exited;
  clearTimeout(timer);
}
