// What the install.sh tests share: the binary under test, running install.sh into a
// staging root, a staged auth service on loopback, ports, and waiting on conditions.
import type { Subprocess } from "bun";
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dir, "../..");
export const INSTALL_SH = join(REPO, "install.sh");
const BUN = join(REPO, "node_modules/.bin/bun");
const DIST = join(REPO, "dist/hostward");

export interface RunResult { code: number; stdout: string; stderr: string }

/** A scratch directory removed by cleanup(). */
export function scratch(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `hostward-install-${prefix}-`));
}

/**
 * A private copy of dist/hostward (built once if missing): other work may rebuild
 * dist/ while these tests run, and install.sh compares binaries byte for byte.
 */
export function binaryUnderTest(dir: string): string {
  if (!existsSync(DIST)) {
    const b = Bun.spawnSync([BUN, "run", "build"], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
    if (b.exitCode !== 0) throw new Error(`bun run build failed: ${b.stderr.toString().slice(-2000)}`);
  }
  const copy = join(dir, "hostward");
  copyFileSync(DIST, copy);
  Bun.spawnSync(["chmod", "0755", copy]);
  return copy;
}

/** Runs install.sh with /bin/sh (dash on Debian), so bashisms fail here too. */
export function install(args: string[], opts: { env?: Record<string, string>; prefix?: string[] } = {}): RunResult {
  const r = Bun.spawnSync([...(opts.prefix ?? []), "sh", INSTALL_SH, ...args], {
    env: { ...process.env, ...opts.env },
    stdout: "pipe",
    stderr: "pipe",
    timeout: 120_000,
  });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

export function run(argv: string[], opts: { cwd?: string } = {}): RunResult {
  const r = Bun.spawnSync(argv, { cwd: opts.cwd, stdout: "pipe", stderr: "pipe", timeout: 60_000 });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

/** Polls until check() returns a value other than undefined/false, or fails with what it waited for. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await Bun.sleep(100);
  }
}

export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return res.ok;
}

/** A long-running process whose output goes to a log file, for the failure message. */
export class Service {
  readonly proc: Subprocess;
  constructor(readonly argv: string[], readonly log: string) {
    const fd = openSync(log, "a");
    this.proc = Bun.spawn(argv, { stdout: fd, stderr: fd, stdin: "ignore" });
  }
  output(): string {
    return existsSync(this.log) ? readFileSync(this.log, "utf8").slice(-4000) : "";
  }
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill("SIGTERM");
    const exited = await Promise.race([this.proc.exited.then(() => true), Bun.sleep(10_000).then(() => false)]);
    if (!exited) this.proc.kill("SIGKILL");
  }
}

/** An auth service installed by install.sh into its own staging root, then started from there. */
export class StagedAuth {
  readonly root: string;
  readonly port = freePort();
  readonly diagPort = freePort();
  service?: Service;

  constructor(readonly dir: string, readonly binary: string) {
    this.root = join(dir, "auth-root");
    mkdirSync(this.root);
  }

  get addr(): string { return `127.0.0.1:${this.port}`; }
  get hostward(): string { return join(this.root, "usr/local/bin/hostward"); }
  get identity(): string { return join(this.root, "var/lib/hostward/auth/admin.identity"); }

  async start(): Promise<void> {
    const r = install(["--role", "auth", "--root", this.root, "--binary", this.binary, "--listen", this.addr, "--diag-addr", `127.0.0.1:${this.diagPort}`]);
    if (r.code !== 0) throw new Error(`install.sh --role auth failed: ${r.stderr}`);
    this.service = new Service([this.hostward, "auth", "start", "--config", join(this.root, "etc/hostward/auth.toml")], join(this.dir, "auth.log"));
    await waitFor("the staged auth service's /readyz", () => httpOk(`http://127.0.0.1:${this.diagPort}/readyz`))
      .catch((e) => { throw new Error(`${(e as Error).message}\n${this.service!.output()}`); });
    await waitFor("admin.identity", () => existsSync(this.identity));
  }

  ctl(...args: string[]): RunResult {
    return run([this.hostward, "ctl", "--identity", this.identity, ...args]);
  }

  ctlOk(...args: string[]): string {
    const r = this.ctl(...args);
    if (r.code !== 0) throw new Error(`ctl ${args.join(" ")}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  /** A fresh single-use join token and the CA pin. */
  token(): { token: string; ca_pin: string } {
    return JSON.parse(this.ctlOk("tokens", "add", "--format", "json"));
  }

  async stop(): Promise<void> {
    await this.service?.stop();
  }
}

export interface Entry { path: string; mode: string; size: number; mtimeMs: number; ino: number; content?: string }

/**
 * Every path under root with its mode, inode and mtime (and text of small files): a
 * second run must not change any. dirTimes=false leaves out directory mtimes, which
 * change when a failed run creates entries and then removes them again.
 */
export function snapshot(root: string, opts: { dirTimes?: boolean } = {}): Entry[] {
  const out: Entry[] = [];
  const walk = (rel: string) => {
    const abs = join(root, rel);
    const st = lstatSync(abs);
    const mtimeMs = st.isDirectory() && opts.dirTimes === false ? 0 : st.mtimeMs;
    const entry: Entry = { path: rel || ".", mode: (st.mode & 0o7777).toString(8).padStart(4, "0"), size: st.size, mtimeMs, ino: st.ino };
    if (st.isFile() && st.size < 64 * 1024) entry.content = readFileSync(abs, "utf8");
    out.push(entry);
    if (st.isDirectory()) for (const name of readdirSync(abs).sort()) walk(rel ? `${rel}/${name}` : name);
  };
  walk("");
  return out;
}

/** Paths under root with their octal mode, "0700 var/lib/hostward", sorted as strings. */
export function tree(root: string): string[] {
  return snapshot(root).filter((e) => e.path !== ".").map((e) => `${e.mode} ${e.path}`).sort();
}

export function modeOf(path: string): string {
  return (lstatSync(path).mode & 0o7777).toString(8).padStart(4, "0");
}

export function cleanup(...dirs: string[]): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
