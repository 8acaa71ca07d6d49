// One SSH session channel: collects pty/env requests, then runs the shell, command
// or sftp server as the OS user and pipes it both ways with backpressure.
import type { Session, ServerChannel } from "ssh2";
import type { Subprocess } from "bun";
import type { Logger } from "../platform/logger.ts";
import { acceptsEnv, loginArgv, loginCwd, loginEnv, sftpServerPath, type LoginSpec } from "./login-process.ts";
import type { OsUser } from "./os-user.ts";

export interface SessionOwner {
  user: string;
  login: string;
  osUser: OsUser;
  sshConnection: string;
  switchUser: boolean;
  log: Logger;
  /** Asked before a shell/exec/subsystem starts; a string refuses it with that message. */
  admit(kind: string): string | undefined;
  started(s: SessionChannel): void;
  ended(s: SessionChannel, exit: { code?: number; signal?: string }): void;
  /** Asked after admit: whether the session is recorded (a refusal closes it). */
  record?(s: SessionChannel): { tap?: SessionTap; notice?: string; refusal?: string };
  /** Agent forwarding (-A) asked on this session: the socket, or why not (src/agent/forwarding). */
  agentForward?(): Promise<{ path: string } | { refusal: string }>;
  /** Lines for the session's stderr before it starts (refused forwards that had no channel). */
  notices?(): string[];
}

/** Where a recorded session's output, input and resizes go (src/recording). */
export interface SessionTap {
  /** A promise means "slow down": pipe output waits for it. */
  output(bytes: Uint8Array): Promise<void> | undefined;
  input(bytes: Uint8Array): void;
  resize(cols: number, rows: number): void;
  end(exit: { code?: number; signal?: string }): void;
}

interface PtyInfo { term: string; cols: number; rows: number }

const PTY_DRAIN_MS = 1000;
const MAX_ENV = 64;

export class SessionChannel {
  readonly id = crypto.randomUUID();
  kind = "";
  command?: string;
  #pty?: PtyInfo;
  #env: Record<string, string> = {};
  #proc?: Subprocess;
  #terminal?: Bun.Terminal;
  #stream?: ServerChannel;
  #closed = false;
  #tap?: SessionTap;
  #agent?: Promise<{ path: string } | { refusal: string }>;

  constructor(session: Session, private readonly owner: SessionOwner) {
    session.on("pty", (accept, reject, info) => {
      this.#pty = { term: String(info.term ?? "xterm").slice(0, 64), cols: clamp(info.cols), rows: clamp(info.rows) };
      accept?.();
    });
    session.on("window-change", (accept, _reject, info) => {
      if (this.#pty) this.#pty = { ...this.#pty, cols: clamp(info.cols), rows: clamp(info.rows) };
      this.#terminal?.resize(clamp(info.cols), clamp(info.rows));
      this.#tap?.resize(clamp(info.cols), clamp(info.rows));
      accept?.();
    });
    session.on("env", (accept, reject, info) => {
      if (Object.keys(this.#env).length < MAX_ENV && acceptsEnv(info.key) && String(info.val).length < 1024) {
        this.#env[info.key] = String(info.val);
        accept?.();
      } else reject?.();
    });
    session.on("signal", (accept, _reject, info) => {
      const sig = String(info.name ?? "").toUpperCase();
      if (/^(INT|TERM|HUP|KILL|QUIT|USR1|USR2|ALRM|ABRT)$/.test(sig)) this.#proc?.kill(`SIG${sig}` as NodeJS.Signals);
      accept?.();
    });
    session.on("auth-agent", (accept, reject) => {
      if (!this.owner.agentForward || this.#stream) return void reject?.();
      this.#agent ??= this.owner.agentForward();
      accept?.();
    });
    session.on("shell", (accept, reject) => this.#start(accept, reject, { kind: "shell" }));
    session.on("exec", (accept, reject, info) => this.#start(accept, reject, { kind: "exec", command: String(info.command) }));
    session.on("subsystem", (accept, reject, info) => {
      if (info.name !== "sftp" || !sftpServerPath()) return reject?.();
      this.#start(accept, reject, { kind: "sftp" });
    });
    session.on("close", () => this.#onClientClose());
  }

  get hasPty(): boolean {
    return this.#pty !== undefined;
  }

  get pty(): PtyInfo | undefined {
    return this.#pty;
  }

  /** Whether this session's output is being recorded. */
  get recorded(): boolean {
    return this.#tap !== undefined;
  }

  /**
   * Writes a last line to the user and closes the channel: on a PTY it is framed by
   * CR LF on the terminal itself (the shell may have left the cursor mid-line); an
   * exec session gets it as one line on stderr.
   */
  terminate(message: string): void {
    const s = this.#stream;
    if (!s || this.#closed) return;
    try {
      if (this.#pty) s.write(`\r\n${message}\r\n`);
      else s.stderr.write(`${message}\n`);
      s.exit(255);
      s.end();
    } catch {
      // the channel may already be gone; the process is killed below either way
    }
    this.#kill();
  }

  #start(accept: (() => ServerChannel) | undefined, reject: (() => void) | undefined, run: LoginSpec["run"]): void {
    if (this.#stream || !accept) return void reject?.();
    let refusal = this.owner.admit(run.kind);
    const stream = accept();
    this.#stream = stream;
    this.kind = run.kind;
    if (run.kind === "exec") this.command = run.command;
    if (!refusal && this.owner.record) {
      const rec = this.owner.record(this);
      refusal = rec.refusal;
      this.#tap = rec.tap;
      if (rec.notice && !refusal) (this.#pty ? stream : stream.stderr).write(rec.notice + "\r\n");
    }
    if (refusal) {
      stream.stderr.write(refusal + "\r\n");
      stream.exit(1);
      stream.end();
      return;
    }
    this.#run(stream, run).catch((e) => {
      this.owner.log.error("session failed", { session: this.id, error: e as Error });
      try { stream.exit(255); stream.end(); } catch { /* already closed */ }
    });
  }

  async #run(stream: ServerChannel, run: LoginSpec["run"]): Promise<void> {
    const agent = await this.#agent;
    const notices = [...(this.owner.notices?.() ?? []), ...(agent && "refusal" in agent ? [agent.refusal] : [])];
    for (const n of notices) (this.#pty ? stream : stream.stderr).write(`hostward: ${n}${this.#pty ? "\r\n" : "\n"}`);
    if (this.#closed) return;
    const spec: LoginSpec = {
      user: this.owner.osUser, run, pty: this.#pty, clientEnv: this.#env,
      sshConnection: this.owner.sshConnection, switchUser: this.owner.switchUser,
      ...(agent && "path" in agent ? { agentSocket: agent.path } : {}),
    };
    this.owner.started(this);
    const exit = this.#pty ? await this.#runPty(stream, spec, this.#pty) : await this.#runPipes(stream, spec);
    this.#tap?.end(exit);
    this.owner.ended(this, exit);
    if (this.#closed) return;
    if (exit.signal) stream.exit(exit.signal.replace(/^SIG/, ""), false, "");
    else stream.exit(exit.code ?? 0);
    stream.end();
  }

  async #runPty(stream: ServerChannel, spec: LoginSpec, pty: PtyInfo) {
    let eof!: () => void;
    const drained = new Promise<void>((r) => (eof = r));
    // An explicit Terminal: with Bun 1.4's inline `terminal: {...}` option the data
    // callback was not delivered in our tests.
    const terminal = new Bun.Terminal({
      cols: pty.cols, rows: pty.rows, name: pty.term,
      data: (_t, d) => {
        this.#tap?.output(d);
        if (!this.#closed) stream.write(d);
      },
      exit: () => eof(),
    });
    this.#terminal = terminal;
    const proc = Bun.spawn(loginArgv(spec), { env: loginEnv(spec), cwd: loginCwd(spec.user), terminal });
    this.#proc = proc;
    stream.on("data", (d: Buffer) => {
      this.#tap?.input(d);
      terminal.write(d);
    });
    await proc.exited;
    // Output written just before exit arrives after it: wait for the PTY's EOF,
    // bounded, because a background job may hold the terminal open.
    await Promise.race([drained, Bun.sleep(PTY_DRAIN_MS)]);
    terminal.close();
    return { code: proc.exitCode ?? undefined, signal: proc.signalCode == null ? undefined : String(proc.signalCode) };
  }

  async #runPipes(stream: ServerChannel, spec: LoginSpec) {
    const proc = Bun.spawn(loginArgv(spec), { env: loginEnv(spec), cwd: loginCwd(spec.user), stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    this.#proc = proc;
    stream.on("data", (d: Buffer) => {
      this.#tap?.input(d);
      proc.stdin.write(d);
      stream.pause();
      Promise.resolve(proc.stdin.flush()).catch(() => {}).finally(() => stream.resume());
    });
    stream.on("end", () => Promise.resolve(proc.stdin.end()).catch(() => {}));
    await Promise.all([pump(proc.stdout, stream, this.#tap), pump(proc.stderr, stream.stderr, this.#tap), proc.exited]);
    return { code: proc.exitCode ?? undefined, signal: proc.signalCode == null ? undefined : String(proc.signalCode) };
  }

  #onClientClose(): void {
    this.#closed = true;
    this.#kill();
  }

  #kill(): void {
    const proc = this.#proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill("SIGHUP");
    setTimeout(() => proc.exitCode === null && proc.signalCode === null && proc.kill("SIGKILL"), 2000).unref();
  }
}

async function pump(src: ReadableStream<Uint8Array>, dst: NodeJS.WritableStream & { once: Function; destroyed?: boolean }, tap?: SessionTap): Promise<void> {
  for await (const chunk of src) {
    const slow = tap?.output(chunk);
    if (slow) await slow;
    if (dst.destroyed) continue;
    if (!dst.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => { dst.removeListener("drain", done); dst.removeListener("close", done); resolve(); };
        dst.once("drain", done);
        dst.once("close", done);
      });
    }
  }
}

function clamp(n: unknown): number {
  const v = Number(n);
  return Number.isInteger(v) && v > 0 && v < 10_000 ? v : 80;
}
