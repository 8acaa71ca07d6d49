// One SSH session channel: collects pty/env requests, then runs the shell, command
// or sftp server as the OS user (or the certificate's force-command instead) and pipes
// it both ways. Every output path waits while the channel's window or the recorder is
// full, so a client that stops reading stops the program, not the agent's memory.
import type { Session, ServerChannel } from "ssh2";
import type { Subprocess } from "bun";
import type { Logger } from "../platform/logger.ts";
import { PTY_REFUSAL, X11_REFUSAL, type CertPermissions } from "./cert-attributes.ts";
import { acceptsEnv, loginArgv, loginCwd, loginEnv, sftpServerPath, type LoginSpec } from "./login-process.ts";
import type { OsUser } from "./os-user.ts";
import { openPty, type Pty } from "./pty.ts";

export interface SessionOwner {
  user: string;
  login: string;
  osUser: OsUser;
  sshConnection: string;
  switchUser: boolean;
  log: Logger;
  permissions: CertPermissions;
  /** Asked before a shell/exec/subsystem starts; a string refuses it with that message. */
  admit(kind: string): string | undefined;
  started(s: SessionChannel): void;
  ended(s: SessionChannel, exit: SessionExit): void;
  /** Asked after admit: whether the session is recorded (a refusal closes it). */
  record?(s: SessionChannel): { tap?: SessionTap; notice?: string; refusal?: string };
  /** Answers a request ssh2 can no longer reject itself (a second shell/exec on a running session). */
  failRequest(session: Session): void;
  /** Agent forwarding (-A) asked on this session: the socket, or why not (src/agent/forwarding). */
  agentForward?(): Promise<{ path: string } | { refusal: string }>;
  /** Lines for the session's stderr before it starts (refused forwards that had no channel). */
  notices?(): string[];
}

/** How a session ended; `cut` when the agent (not the program) ended it, and why. */
export interface SessionExit {
  code?: number;
  signal?: string;
  cut?: string;
}

/** Where a recorded session's output, input and resizes go (src/recording). */
export interface SessionTap {
  /** A promise means "slow down": output waits for it. */
  output(bytes: Uint8Array): Promise<void> | undefined;
  input(bytes: Uint8Array): void;
  resize(cols: number, rows: number): void;
  end(exit: { code?: number; signal?: string }, extra?: { interrupted?: boolean; reason?: string }): void;
}

interface PtyInfo { term: string; cols: number; rows: number }

const PTY_DRAIN_MS = 1000;
const KILL_AFTER_MS = 2000;
const MAX_ENV = 64;
const MAX_ENV_VALUE = 1024;
const MAX_TERM = 64;
const SIGNALS = /^(INT|TERM|HUP|KILL|QUIT|USR1|USR2|ALRM|ABRT)$/;

export class SessionChannel {
  readonly id = crypto.randomUUID();
  kind = "";
  command?: string;
  /** What the client asked to run when force-command replaced it (SSH_ORIGINAL_COMMAND). */
  originalCommand?: string;
  #pty?: PtyInfo;
  #env: Record<string, string> = {};
  #proc?: Subprocess;
  #terminal?: Pty;
  #stream?: ServerChannel;
  #closed = false;
  readonly #gone = gonePromise();
  #tap?: SessionTap;
  /** Why the agent ended this session, if it did. */
  #cut?: string;
  /** Refusals of pre-start requests, told on stderr when the program starts (OpenSSH shows no reason). */
  readonly #notices: string[] = [];
  #agent?: Promise<{ path: string } | { refusal: string }>;

  constructor(session: Session, private readonly owner: SessionOwner) {
    session.on("pty", (accept, reject, info) => {
      if (!info) return reject?.();
      if (!owner.permissions.pty) return this.#refuse(reject, PTY_REFUSAL);
      this.#pty = { term: String(info.term ?? "xterm").slice(0, MAX_TERM), cols: clamp(info.cols, 80), rows: clamp(info.rows, 24) };
      accept?.();
    });
    session.on("window-change", (accept, reject, info) => {
      if (!info || !this.#pty) return reject?.();
      this.#pty = { ...this.#pty, cols: clamp(info.cols, this.#pty.cols), rows: clamp(info.rows, this.#pty.rows) };
      this.#terminal?.resize(this.#pty.cols, this.#pty.rows);
      this.#tap?.resize(this.#pty.cols, this.#pty.rows);
      accept?.();
    });
    session.on("env", (accept, reject, info) => {
      if (info && Object.keys(this.#env).length < MAX_ENV && acceptsEnv(info.key) && String(info.val).length < MAX_ENV_VALUE) {
        this.#env[info.key] = String(info.val);
        accept?.();
      } else reject?.();
    });
    session.on("signal", (accept, _reject, info) => {
      const sig = String(info?.name ?? "").toUpperCase();
      if (SIGNALS.test(sig) && this.#running()) this.#proc!.kill(`SIG${sig}` as NodeJS.Signals);
      accept?.();
    });
    session.on("x11", (_accept, reject) => this.#refuse(reject, X11_REFUSAL));
    session.on("auth-agent", (accept, reject) => {
      if (!this.owner.agentForward || this.#stream) return void reject?.();
      this.#agent ??= this.owner.agentForward();
      accept?.();
    });
    // One program per channel: a second shell/exec/subsystem is answered with a failure.
    const once = (reject?: () => void) => (reject ? () => (this.#stream ? owner.failRequest(session) : reject()) : undefined);
    session.on("shell", (accept, reject) => this.#start(accept, once(reject), { kind: "shell" }));
    session.on("exec", (accept, reject, info) => this.#start(accept, once(reject), { kind: "exec", command: String(info?.command ?? "") }));
    session.on("subsystem", (accept, reject, info) => {
      if (info?.name !== "sftp" || !sftpServerPath()) return once(reject)?.();
      this.#start(accept, once(reject), { kind: "sftp" });
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
   * exec session gets it as one line on stderr. Ends the program; `reason` is what the records say.
   */
  terminate(message: string, reason = message.replace(/^hostward: /, "")): void {
    const s = this.#stream;
    if (!s || this.#closed) return;
    this.#cut ??= reason;
    try {
      if (this.#pty) s.write(`\r\n${message}\r\n`);
      else s.stderr.write(`${message}\n`);
      s.exit(255);
      s.end();
    } catch {
      // the channel may already be gone; the program is ended below either way
    }
    this.#kill();
  }

  /** The connection is gone: nobody can be told, the program's terminal or pipes close (SIGHUP). */
  disconnected(reason: string): void {
    if (this.#closed) return;
    if (this.#running()) this.#cut ??= reason;
    this.#onClientClose();
  }

  #refuse(reject: (() => void) | undefined, reason: string): void {
    this.owner.log.info("session request refused", { session: this.id, user: this.owner.user, reason });
    if (!this.#notices.includes(reason)) this.#notices.push(reason);
    reject?.();
  }

  #start(accept: (() => ServerChannel) | undefined, reject: (() => void) | undefined, asked: LoginSpec["run"]): void {
    if (this.#stream || !accept) return void reject?.();
    const run = this.#forced(asked);
    let refusal = this.owner.admit(run.kind);
    const stream = accept();
    this.#stream = stream;
    stream.on("error", (e: Error) => this.owner.log.debug("session channel error", { session: this.id, error: e }));
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

  /** force-command replaces shell, exec and subsystem alike; the request is kept in SSH_ORIGINAL_COMMAND, as sshd does. */
  #forced(asked: LoginSpec["run"]): LoginSpec["run"] {
    const force = this.owner.permissions.forceCommand;
    if (force === undefined) return asked;
    if (asked.kind === "exec") this.originalCommand = asked.command;
    if (asked.kind === "sftp") this.originalCommand = sftpServerPath();
    return { kind: "exec", command: force };
  }

  async #run(stream: ServerChannel, run: LoginSpec["run"]): Promise<void> {
    const agent = await this.#agent;
    const notices = [...this.#notices, ...(this.owner.notices?.() ?? []), ...(agent && "refusal" in agent ? [agent.refusal] : [])];
    for (const n of notices) (this.#pty ? stream : stream.stderr).write(`hostward: ${n}${this.#pty ? "\r\n" : "\n"}`);
    if (this.#closed) return;
    const spec: LoginSpec = {
      user: this.owner.osUser, run, pty: this.#pty, clientEnv: this.#env, originalCommand: this.originalCommand,
      sshConnection: this.owner.sshConnection, switchUser: this.owner.switchUser,
      ...(agent && "path" in agent ? { agentSocket: agent.path } : {}),
    };
    this.owner.started(this);
    const status = this.#pty ? await this.#runPty(stream, spec, this.#pty) : await this.#runPipes(stream, spec);
    const exit: SessionExit = { ...status, ...(this.#cut ? { cut: this.#cut } : {}) };
    this.#tap?.end(status, this.#cut ? { interrupted: true, reason: this.#cut } : {});
    this.owner.ended(this, exit);
    if (this.#closed) return;
    if (status.signal) stream.exit(status.signal.replace(/^SIG/, ""), false, "");
    else stream.exit(status.code ?? 0);
    stream.end();
  }

  async #runPty(stream: ServerChannel, spec: LoginSpec, info: PtyInfo) {
    const pty = openPty(info.cols, info.rows);
    this.#terminal = pty;
    let proc: Subprocess;
    try {
      proc = Bun.spawn(loginArgv(spec), { env: loginEnv(spec), cwd: loginCwd(spec.user), stdio: [pty.slaveFd, pty.slaveFd, pty.slaveFd] });
    } finally {
      pty.releaseSlave();
    }
    this.#proc = proc;
    stream.on("data", (d: Buffer) => {
      this.#tap?.input(d);
      const full = pty.write(d);
      if (!full) return;
      stream.pause();
      void full.then(() => stream.resume());
    });
    // The master is read only while the recorder and the channel keep up (backpressure).
    const pumped = pump(pty.output, stream, this.#tap, this.#gone);
    await proc.exited;
    // Output written just before exit arrives after it: wait for the PTY's EOF (EIO once
    // every holder of the terminal is gone), bounded, because a background job may hold it open.
    await Promise.race([pumped, Bun.sleep(PTY_DRAIN_MS)]);
    pty.close();
    return exitOf(proc);
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
    await Promise.all([pump(proc.stdout, stream, this.#tap, this.#gone), pump(proc.stderr, stream.stderr, this.#tap, this.#gone), proc.exited]);
    return exitOf(proc);
  }

  #running(): boolean {
    const proc = this.#proc;
    return proc !== undefined && proc.exitCode === null && proc.signalCode === null;
  }

  #onClientClose(): void {
    this.#closed = true;
    this.#gone.resolve();
    this.#kill();
  }

  /**
   * Like sshd when a connection goes: the terminal's master is closed (the kernel hangs
   * up the session) and the session's process group gets SIGHUP; pipes close with it.
   * A program that ignores SIGHUP and keeps the session's first process alive is
   * killed after a grace; what the user detached (nohup, setsid) stays theirs.
   */
  #kill(): void {
    const proc = this.#proc;
    this.#terminal?.close();
    if (!proc || !this.#running()) return;
    try {
      process.kill(-proc.pid, "SIGHUP");
    } catch {
      proc.kill("SIGHUP");
    }
    setTimeout(() => this.#running() && proc.kill("SIGKILL"), KILL_AFTER_MS).unref();
  }
}

function gonePromise(): Gone & { resolve(): void } {
  let resolve!: () => void;
  const g = { done: false, promise: new Promise<void>((r) => (resolve = r)), resolve: () => { g.done = true; resolve(); } };
  return g;
}

function exitOf(proc: Subprocess): { code?: number; signal?: string } {
  return { code: proc.exitCode ?? undefined, signal: proc.signalCode == null ? undefined : String(proc.signalCode) };
}

type Sink = NodeJS.WritableStream & { once: Function; removeListener: Function; destroyed?: boolean };

/** The client side of a session: `done` once the channel or its connection is gone. */
interface Gone {
  readonly done: boolean;
  readonly promise: Promise<void>;
}

/** Waits until `dst` can take more (drain), or it or the connection is gone (ssh2 does not close a channel waiting for window). */
function drained(dst: Sink, gone: Gone): Promise<void> {
  return Promise.race([gone.promise, new Promise<void>((resolve) => {
    const done = () => { dst.removeListener("drain", done); dst.removeListener("close", done); resolve(); };
    dst.once("drain", done);
    dst.once("close", done);
  })]);
}

async function pump(src: AsyncIterable<Uint8Array>, dst: Sink, tap: SessionTap | undefined, gone: Gone): Promise<void> {
  for await (const chunk of src) {
    const slow = tap?.output(chunk);
    if (slow) await slow;
    if (gone.done || dst.destroyed) continue;
    if (!dst.write(chunk)) await drained(dst, gone);
  }
}

/** A terminal dimension from the client, or `fallback` when it is absurd. */
function clamp(n: unknown, fallback: number): number {
  const v = Number(n);
  return Number.isInteger(v) && v > 0 && v < 10_000 ? v : fallback;
}
