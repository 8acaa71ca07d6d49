// -L to a Unix socket for a login that is not root: the agent starts the relay
// (`hostward internal unix-connect PATH`, unix-relay-main.ts) as the login user with
// their groups, reads its one status line, and gives the channel its stdio as a stream.
import { spawn, type ChildProcess } from "node:child_process";
import { Duplex } from "node:stream";
import { asUserArgv } from "../login-process.ts";
import type { OsUser } from "../os-user.ts";
import { connectFailure, errnoText, type ConnectFailure } from "./local.ts";

/** Live relays (one process each) per SSH connection; ssh2 bounds forward channels by nothing. */
export const MAX_RELAYS = 64;
/** The relay's own connect timeout is 20 s; this bounds a relay that never answers. */
const STATUS_TIMEOUT_MS = 25_000;
const MAX_STATUS_LINE = 64;
const RELAY_ENV = { PATH: "/usr/bin:/bin", LANG: "C" };

/**
 * The argv that runs this hostward's hidden relay: the binary, or bun on the checkout.
 * setpriv keeps its capabilities until the exec, so the binary's directory need not be
 * searchable by the user; the relay itself starts with none (the test checks CapEff).
 */
export function relayCommand(path: string): string[] {
  const self = Bun.main.endsWith(".ts") ? [process.execPath, Bun.main] : [process.execPath];
  return [...self, "internal", "unix-connect", path];
}

/** One connection's relays: the count it may not exceed. */
export class UnixRelays {
  #live = 0;

  constructor(private readonly user: OsUser) {}

  connect(path: string): Promise<Duplex> {
    if (!path.startsWith("/")) return Promise.reject(connectFailure(`socket path must be absolute: ${path}`));
    if (this.#live >= MAX_RELAYS) return Promise.reject(connectFailure(`too many Unix-socket forwards on this connection (max=${MAX_RELAYS})`));
    this.#live++;
    let released = false;
    const release = () => {
      if (!released) (released = true), this.#live--;
    };
    const [cmd, ...args] = asUserArgv(this.user, relayCommand(path));
    // detached: its own session, so no controlling terminal; stderr is not read.
    const child = spawn(cmd!, args, { cwd: "/", env: RELAY_ENV, detached: true, stdio: ["pipe", "pipe", "ignore"] });
    // A relay counts until its stream closes (which kills it) or it fails to connect.
    child.once("exit", release);
    return relayStatus(child, path).then((stream) => {
      stream.once("close", release);
      return stream;
    }, (e: ConnectFailure) => {
      child.kill("SIGKILL");
      release();
      throw e;
    });
  }
}

/** Resolves with the relay as a stream once it says OK; rejects with sshd's wording otherwise. */
function relayStatus(child: ChildProcess, path: string): Promise<Duplex> {
  const out = child.stdout!;
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => finish(connectFailure(`Connection timed out (${path})`)), STATUS_TIMEOUT_MS);
    const finish = (result: ConnectFailure | Buffer) => {
      clearTimeout(timer);
      out.off("data", onData);
      out.off("end", onEnd);
      child.off("error", onError);
      if (Buffer.isBuffer(result)) resolve(new RelayStream(child, result));
      else reject(result);
    };
    const onData = (d: Buffer) => {
      head = Buffer.concat([head, d]);
      const nl = head.indexOf(10);
      if (nl < 0) return head.length > MAX_STATUS_LINE ? finish(connectFailure(`the relay spoke out of turn (${path})`)) : undefined;
      out.pause();
      const line = head.subarray(0, nl).toString();
      if (line === "OK") return finish(head.subarray(nl + 1));
      const code = /^ERR ([A-Z0-9_]+)$/.exec(line)?.[1] ?? "EIO";
      finish(connectFailure(`${errnoText(code)} (${path})`));
    };
    const onEnd = () => finish(connectFailure(`the relay could not run as the login user (${path})`));
    const onError = (e: Error) => finish(connectFailure(`the relay could not start: ${e.message} (${path})`));
    out.on("data", onData);
    out.once("end", onEnd);
    child.once("error", onError);
  });
}

/** The relay's stdin and stdout as one stream, with backpressure both ways; ending it ends the relay. */
class RelayStream extends Duplex {
  constructor(private readonly child: ChildProcess, rest: Buffer) {
    // Half-open like a net.Socket: when the relay's socket is done, so is this stream.
    super({ allowHalfOpen: false });
    const out = child.stdout!;
    if (rest.length) this.push(rest);
    out.on("data", (d: Buffer) => {
      if (!this.push(d)) out.pause();
    });
    out.once("end", () => this.push(null));
    out.once("error", (e) => this.destroy(e));
    // Once the relay is done, a write or end to its gone stdin fails harmlessly.
    child.stdin!.on("error", (e) => {
      if (!this.readableEnded) this.destroy(e);
    });
  }

  override _read(): void {
    this.child.stdout!.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    if (this.child.stdin!.write(chunk)) cb();
    else this.child.stdin!.once("drain", () => cb());
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.child.stdin!.end(cb);
  }

  override _destroy(e: Error | null, cb: (e?: Error | null) => void): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    cb(e);
  }
}
