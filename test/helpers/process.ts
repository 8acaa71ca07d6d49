// Test processes: spawn the real binary (dist/hostward) with captured output, wait on
// conditions with a deadline, and find free loopback ports.
import type { Subprocess } from "bun";
import { closeSync, mkdirSync, openSync, statSync, utimesSync } from "node:fs";
import { createServer } from "node:net";

export const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
export const BUN = process.execPath;
/** The binary under test: dist/hostward, built once per run by test/preload.ts. */
export const CLI = [`${ROOT}/dist/hostward`];

export interface Proc {
  proc: Subprocess<"pipe" | "ignore", "pipe", "pipe">;
  output(): string;
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

export function startProc(argv: string[], opts: { env?: Record<string, string>; cwd?: string; stdin?: "pipe" | "ignore" } = {}): Proc {
  const proc = Bun.spawn(argv, { env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdin: opts.stdin ?? "ignore", stdout: "pipe", stderr: "pipe" }) as Proc["proc"];
  let out = "";
  const read = async (s: ReadableStream<Uint8Array>) => {
    for await (const c of s) out += new TextDecoder().decode(c);
  };
  void read(proc.stdout);
  void read(proc.stderr);
  return {
    proc,
    output: () => out,
    async waitForOutput(re, timeoutMs = 15_000) {
      await waitFor(() => re.test(out) || proc.exitCode !== null, timeoutMs, `output matching ${re}`);
      if (!re.test(out)) throw new Error(`process exited (${proc.exitCode}) before printing ${re}:\n${out.slice(-2000)}`);
      return out.match(re)![0];
    },
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return proc.exited;
    },
  };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function run(argv: string[], opts: { env?: Record<string, string>; cwd?: string; stdin?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const proc = Bun.spawn(argv, {
    env: { ...process.env, ...opts.env }, cwd: opts.cwd,
    stdin: opts.stdin !== undefined ? new TextEncoder().encode(opts.stdin) : "ignore",
    stdout: "pipe", stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
}

// Ports for test servers come from below the kernel's ephemeral range (32768-60999 on
// Linux), so no outgoing connection of any process can take one between our pick and the
// server's listen, and each pick is reserved across the parallel test processes with an
// O_EXCL file, so two test files never pick the same port.
const PORT_LOW = 10_000;
const PORT_HIGH = 32_000;
const RESERVED = "/tmp/hostward-test-ports";
const RESERVATION_MS = 30 * 60_000;

/** A loopback TCP port nobody listens on and no other test process has picked. */
export async function freePort(): Promise<number> {
  mkdirSync(RESERVED, { recursive: true });
  for (let tries = 0; tries < 1000; tries++) {
    const port = PORT_LOW + Math.floor(Math.random() * (PORT_HIGH - PORT_LOW));
    if (!reserve(port)) continue;
    if (await bindable(port)) return port;
  }
  throw new Error("no free loopback port found in 1000 tries");
}

function reserve(port: number): boolean {
  const path = `${RESERVED}/${port}`;
  try {
    closeSync(openSync(path, "wx"));
    return true;
  } catch {
    // Reservations from runs long gone are taken over.
    try {
      if (Date.now() - statSync(path).mtimeMs < RESERVATION_MS) return false;
      utimesSync(path, new Date(), new Date());
      return true;
    } catch {
      return false;
    }
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

export async function httpOk(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}
