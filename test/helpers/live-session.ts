// A live interactive session held open by a real `ssh -tt`, for tests that cut it.
import { startProc, waitFor, type Proc } from "./process.ts";

export interface LiveSession {
  proc: Proc;
  send(line: string): void;
  /** Resolves with the exit code once ssh has ended. */
  ended(timeoutMs: number): Promise<number>;
  alive(): boolean;
}

export async function openLiveSession(sshArgv: string[]): Promise<LiveSession> {
  const proc = startProc(sshArgv, { stdin: "pipe" });
  const stdin = proc.proc.stdin as import("bun").FileSink;
  const send = (line: string) => {
    stdin.write(line + "\n");
    stdin.flush();
  };
  send("echo READY-$((40+2))");
  await proc.waitForOutput(/READY-42/, 15_000);
  return {
    proc, send,
    alive: () => proc.proc.exitCode === null && proc.proc.signalCode === null,
    async ended(timeoutMs) {
      await waitFor(() => proc.proc.exitCode !== null || proc.proc.signalCode !== null, timeoutMs, "the ssh session to end");
      return proc.proc.exitCode ?? -1;
    },
  };
}
