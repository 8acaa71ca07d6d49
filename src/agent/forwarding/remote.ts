// Remote forwarding (-R; tcpip-forward and streamlocal-forward@openssh.com): listeners
// on the node, bound to loopback unless the roles allow more (sshd's GatewayPorts),
// each accepted connection sent to the client as a forwarded channel. They close with
// the connection or on the client's cancel.
import { createServer, type Server, type Socket } from "node:net";
import { rmSync } from "node:fs";
import { gatewayPortsAllowed, remoteBindAddress } from "../../core/forward-policy.ts";
import type { ForwardGate, ForwardingConnection, ForwardingEnv } from "./forward-types.ts";

/** A bound on listeners per connection, so one client cannot exhaust the node's ports or fds. */
const MAX_LISTENERS = 64;

type Reply = ((port?: number) => void) | undefined;

interface Listener {
  server: Server;
  socketPath?: string;
}

export class RemoteListeners {
  readonly #listeners = new Map<string, Listener>();
  /** Listeners still binding: counted against the limit, so parallel requests cannot pass it. */
  #binding = 0;
  #closed = false;

  constructor(private readonly conn: ForwardingConnection, private readonly env: ForwardingEnv, private readonly forwards: ForwardGate) {}

  request(name: string, info: unknown, accept: Reply, reject: (() => void) | undefined): void {
    const i = (info ?? {}) as { bindAddr?: string; bindPort?: number; socketPath?: string };
    switch (name) {
      case "tcpip-forward": return this.#listenTcp(String(i.bindAddr ?? ""), Number(i.bindPort), accept, reject);
      case "cancel-tcpip-forward": return this.#cancel(`${i.bindAddr ?? ""}:${i.bindPort}`, accept, reject);
      case "streamlocal-forward@openssh.com": return this.#listenUnix(String(i.socketPath ?? ""), accept, reject);
      case "cancel-streamlocal-forward@openssh.com": return this.#cancel(String(i.socketPath ?? ""), accept, reject);
      default: return reject?.();
    }
  }

  close(): void {
    this.#closed = true;
    for (const key of [...this.#listeners.keys()]) this.#stop(key);
  }

  #listenTcp(bindAddr: string, bindPort: number, accept: Reply, reject: (() => void) | undefined): void {
    const requested = `${bindAddr || "*"}:${bindPort}`;
    const refusal = this.forwards.refusal("remote") ?? this.#limits(bindPort);
    if (refusal) return this.#refuse("remote", requested, refusal, reject);
    const host = remoteBindAddress(bindAddr, gatewayPortsAllowed(this.conn.subject.roles));
    const server = createServer({ pauseOnConnect: true });
    this.#binding++;
    server.once("error", (e: NodeJS.ErrnoException) => {
      this.#binding--;
      this.#refuse("remote", requested, `cannot listen on ${host}:${bindPort}: ${e.code ?? e.message}`, reject);
    });
    server.listen(bindPort, host, () => {
      this.#binding--;
      const port = (server.address() as { port: number }).port;
      if (this.#closed) return void server.close();
      const destination = `${host}:${port}`;
      this.#listeners.set(`${bindAddr}:${port}`, { server });
      server.on("connection", (s: Socket) => this.#forwardTcp(s, bindAddr, port, destination));
      this.env.log.info("remote forward listening", { conn: this.conn.id, user: this.conn.subject.user, listen: destination });
      accept?.(port);
    });
  }

  #listenUnix(path: string, accept: Reply, reject: (() => void) | undefined): void {
    const refusal = this.forwards.refusal("remote-socket") ?? this.#limits(0) ?? (path.startsWith("/") ? undefined : "socket path must be absolute");
    if (refusal) return this.#refuse("remote-socket", path, refusal, reject);
    const server = createServer({ pauseOnConnect: true });
    this.#binding++;
    server.once("error", (e: NodeJS.ErrnoException) => {
      this.#binding--;
      this.#refuse("remote-socket", path, `cannot listen on ${path}: ${e.code ?? e.message}`, reject);
    });
    server.listen(path, () => {
      this.#binding--;
      if (this.#closed) return void server.close();
      this.#listeners.set(path, { server, socketPath: path });
      server.on("connection", (s: Socket) => this.#forwardUnix(s, path));
      accept?.();
    });
  }

  #limits(port: number): string | undefined {
    if (this.#listeners.size + this.#binding >= MAX_LISTENERS) return `too many remote forwards on this connection (max=${MAX_LISTENERS})`;
    // As sshd: only root may listen on a privileged port.
    if (port > 0 && port < 1024 && this.conn.osUser.uid !== 0) return `port ${port} is privileged: only the root login may listen on it`;
    if (!Number.isInteger(port) || port < 0 || port > 65535) return `bad port ${port}`;
    return undefined;
  }

  #refuse(kind: "remote" | "remote-socket", destination: string, reason: string, reject: (() => void) | undefined): void {
    this.forwards.refused({ kind, source: "client", destination }, reason, true);
    reject?.();
  }

  /** A connection to a -R listener: re-checked (a lock may have come since), then sent to the client. */
  #forwardTcp(s: Socket, bindAddr: string, port: number, destination: string): void {
    const source = `${s.remoteAddress}:${s.remotePort}`;
    if (this.#admitOrDrop(s, "remote", source, destination)) return;
    this.conn.client.forwardOut(bindAddr, port, s.remoteAddress ?? "", s.remotePort ?? 0, (err, channel) => {
      if (err) return void s.destroy();
      this.forwards.run("remote", channel, s, source, destination);
      s.resume();
    });
  }

  #forwardUnix(s: Socket, path: string): void {
    if (this.#admitOrDrop(s, "remote-socket", "node", path)) return;
    this.conn.client.openssh_forwardOutStreamLocal(path, (err, channel) => {
      if (err) return void s.destroy();
      this.forwards.run("remote-socket", channel, s, "node", path);
      s.resume();
    });
  }

  #admitOrDrop(s: Socket, kind: "remote" | "remote-socket", source: string, destination: string): boolean {
    const refusal = this.forwards.refusal(kind);
    if (!refusal) return false;
    this.forwards.refused({ kind, source, destination }, refusal);
    s.destroy();
    return true;
  }

  #cancel(key: string, accept: Reply, reject: (() => void) | undefined): void {
    if (!this.#listeners.has(key)) return reject?.();
    this.#stop(key);
    accept?.();
  }

  #stop(key: string): void {
    const l = this.#listeners.get(key);
    if (!l) return;
    this.#listeners.delete(key);
    l.server.close();
    if (l.socketPath) rmSync(l.socketPath, { force: true });
  }
}
