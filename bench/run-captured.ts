// Runs a command to completion with its output captured and a hard time limit.

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

export async function runCaptured(cmd: string[], timeoutMs: number, cwd?: string): Promise<Captured> {
  const start = performance.now();
  const proc = Bun.spawn({ cmd, cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, timeoutMs);
  const exited = proc.exited.then((code) => ({ code, ms: performance.now() - start }));
  const [stdout, stderr, end] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), exited]);
  clearTimeout(timer);
  return { code: end.code, stdout, stderr, ms: end.ms, timedOut };
}

/** The last `max` characters of a command's output, for one-line error messages. */
export function tail(text: string, max = 400): string {
  const t = text.trim();
  return t.length > max ? "…" + t.slice(-max) : t;
}
