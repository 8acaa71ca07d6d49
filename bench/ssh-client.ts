// Runs the OpenSSH client against a benchmark target: a timed login, the negotiated
// cipher, a timed byte stream. Every target gets the same client options.
import { runCaptured, tail } from "./run-captured.ts";

export interface SshTarget {
  name: string;
  /** ssh_config with a `Host node` entry (key, certificate, known_hosts, port). */
  configFile: string;
  /** Extra client options for this target only (e.g. forcing a cipher). */
  clientOptions: string[];
}

export interface StreamResult {
  bytes: number;
  seconds: number;
  mibPerSec: number;
  /** CPU seconds the server spent on this stream, when measured. */
  serverCpuSeconds?: number;
}

const CLIENT_OPTIONS = ["-n", "-T", "-o", "BatchMode=yes", "-o", "ControlMaster=no", "-o", "ControlPath=none", "-o", "UpdateHostKeys=no"];
const HOST = "node";

export function sshCommand(t: SshTarget, remote: string, extra: string[] = []): string[] {
  return ["ssh", "-F", t.configFile, ...CLIENT_OPTIONS, ...t.clientOptions, ...extra, HOST, remote];
}

/** Wall time of `ssh node true`, from spawn to exit, in milliseconds. */
export async function loginMs(t: SshTarget, timeoutMs: number): Promise<number> {
  const r = await runCaptured(sshCommand(t, "true"), timeoutMs);
  if (r.code !== 0) throw new Error(`${t.name}: ssh true failed (exit ${r.code}${r.timedOut ? ", timed out" : ""}): ${tail(r.stderr)}`);
  return r.ms;
}

export interface Negotiated {
  kex: string;
  hostKey: string;
  cipher: string;
}

/** Key exchange, host key algorithm and server->client cipher, from `ssh -v` ("kex: …" lines). */
export async function negotiated(t: SshTarget, timeoutMs: number): Promise<Negotiated> {
  const r = await runCaptured(sshCommand(t, "true", ["-v"]), timeoutMs);
  const kex = r.stderr.match(/kex: algorithm: (\S+)/)?.[1];
  const hostKey = r.stderr.match(/kex: host key algorithm: (\S+)/)?.[1];
  const cipher = r.stderr.match(/kex: server->client cipher: (\S+)/)?.[1];
  if (r.code !== 0 || !kex || !hostKey || !cipher) {
    throw new Error(`${t.name}: ssh -v true failed or named no algorithms (exit ${r.code}): ${tail(r.stderr)}`);
  }
  return { kex, hostKey, cipher };
}

// The counter is a shell pipeline so it costs little CPU (a Bun reader would compete
// with ssh and the server on a small machine). dd takes exactly the first byte, then
// the clock starts; wc counts the rest. Output: t0 ns, count, t1 ns, ssh's exit status.
const COUNTER = `"$@" | { dd bs=1 count=1 status=none of=/dev/null; date +%s%N; wc -c; date +%s%N; }; echo "\${PIPESTATUS[0]}"`;

/** Streams `bytes` zero bytes (or what `remote` prints, which must be `bytes` long) through exec stdout; time runs from the first byte to EOF. */
export async function streamThroughput(t: SshTarget, bytes: number, timeoutMs: number, remote = `head -c ${bytes} /dev/zero`): Promise<StreamResult> {
  const r = await runCaptured(["bash", "-c", COUNTER, "bench", ...sshCommand(t, remote)], timeoutMs);
  const [t0 = "0", count = "0", t1 = "0", sshExit = ""] = r.stdout.trim().split(/\s+/);
  if (r.timedOut) throw new Error(`${t.name}: ${bytes} bytes not streamed within ${timeoutMs} ms`);
  if (sshExit !== "0" || r.code !== 0) throw new Error(`${t.name}: ssh exited ${sshExit || "?"}: ${tail(r.stderr)}`);
  const got = 1 + Number(count);
  if (got !== bytes) throw new Error(`${t.name}: expected ${bytes} bytes, counted ${got}`);
  const seconds = Number(BigInt(t1) - BigInt(t0)) / 1e9;
  return { bytes, seconds, mibPerSec: bytes / 1048576 / seconds };
}
