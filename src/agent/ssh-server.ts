// The agent's SSH listener: ssh2 with our host certificate and algorithms, the limits
// on connections not logged in yet (grace time, MaxStartups), and the set of live
// connections that lock enforcement and shutdown walk over.
import { createServer, type Server as NetServer, type Socket } from "node:net";
import { Server, utils, type Connection, type ParsedKey } from "ssh2";
import type { Logger } from "../platform/logger.ts";
import { SshConnection, type ConnectionEnv } from "./ssh-connection.ts";
import { offerFor, serverAlgorithms } from "./ssh-algorithms.ts";

export interface HostKeyMaterial {
  privateKeyPem: string;
  /** The host certificate blob and its type, e.g. ssh-ed25519-cert-v01@openssh.com. */
  certBlob: Uint8Array;
  certType: string;
}

/** sshd's LoginGraceTime and MaxStartups (one hard limit), from the [ssh] config. */
export interface StartupLimits {
  loginGraceMs: number;
  maxStartups: number;
}

/** How long a refused or expired connection gets to take its last message before its socket is destroyed. */
const LAST_WORDS_MS = 250;

export class SshServer {
  readonly connections = new Set<SshConnection>();
  #server?: Server;
  #tcp?: NetServer;
  /** Sockets not logged in yet, with the SSH connection once the client said hello. */
  readonly #unauthenticated = new Map<Socket, SshConnection | undefined>();

  constructor(private readonly keys: HostKeyMaterial, private readonly env: Omit<ConnectionEnv, "localAddr">, private readonly log: Logger,
    private readonly limits: StartupLimits = { loginGraceMs: 60_000, maxStartups: 100 }) {}

  /** Connections accepted but not logged in (for metrics and tests). */
  get unauthenticated(): number {
    return this.#unauthenticated.size;
  }

  listen(host: string, port: number): Promise<number> {
    const server = new Server({
      // ssh2 reads objects as { key, passphrase }; a parsed key passes through parseKey as is.
      hostKeys: hostKeys(this.keys).map((key) => ({ key })) as never,
      ident: "hostward",
      algorithms: serverAlgorithms() as never,
    }, (client, info) => {
      offerFor(client, info.header.versions.software);
      const conn = new SshConnection(client, { ip: info.ip, port: info.port }, {
        ...this.env,
        localAddr: { ip: host, port },
        events: { ...this.env.events, closed: (c) => { this.connections.delete(c); this.env.events.closed(c); } },
      });
      this.connections.add(conn);
      const socket = socketOf(client);
      if (socket && this.#unauthenticated.has(socket)) this.#unauthenticated.set(socket, conn);
      client.once("ready", () => socket && this.#unauthenticated.delete(socket));
    });
    server.on("error", (e: Error) => this.log.error("ssh server error", { error: e }));
    this.#server = server;
    // Our own listener hands sockets to ssh2, so that limits apply before ssh2 spends anything on them.
    const tcp = createServer((socket) => this.#accept(server, socket));
    this.#tcp = tcp;
    return new Promise((resolve, reject) => {
      tcp.once("error", (e: Error) => reject(new Error(`cannot listen on ${host}:${port} for SSH: ${e.message}`)));
      tcp.listen(port, host, () => {
        tcp.on("error", (e: Error) => this.log.error("ssh server error", { error: e }));
        resolve((tcp.address() as { port: number }).port);
      });
    });
  }

  /** MaxStartups: one line to the client when full; else a grace timer until it logs in. */
  #accept(server: Server, socket: Socket): void {
    socket.on("error", () => {}); // a reset while refused or closing is the client's business
    if (this.#unauthenticated.size >= this.limits.maxStartups) {
      const reason = `too many connections not logged in yet (ssh.max_startups is ${this.limits.maxStartups}); try again later`;
      this.log.warn("connection refused", { client: socket.remoteAddress, reason });
      socket.end(refusalBytes(`hostward: ${reason}`));
      setTimeout(() => socket.destroy(), LAST_WORDS_MS).unref();
      return;
    }
    this.#unauthenticated.set(socket, undefined);
    const grace = setTimeout(() => this.#graceExpired(socket), this.limits.loginGraceMs);
    socket.once("close", () => {
      clearTimeout(grace);
      this.#unauthenticated.delete(socket);
    });
    server.injectSocket(socket);
  }

  /** LoginGraceTime: the client is told (if it got as far as SSH), then its socket is gone. */
  #graceExpired(socket: Socket): void {
    if (!this.#unauthenticated.has(socket)) return;
    const conn = this.#unauthenticated.get(socket);
    this.log.info("connection closed", { conn: conn?.id, client: socket.remoteAddress, reason: "login grace time exceeded" });
    conn?.close("login grace time exceeded");
    setTimeout(() => socket.destroy(), conn ? LAST_WORDS_MS : 0).unref();
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#tcp) return resolve();
      this.#tcp.close(() => resolve());
      for (const c of this.connections) c.close("hostward agent is shutting down");
    });
  }
}

const SSH_MSG_DISCONNECT = 1;
const DISCONNECT_TOO_MANY_CONNECTIONS = 12;

/**
 * What a refused client gets before any key exchange: our version line, then an
 * unencrypted SSH_MSG_DISCONNECT (RFC 4253 §11.1) with the reason, which OpenSSH prints
 * ("Received disconnect from …: hostward: …"); a bare line before the version it only
 * shows with -v.
 */
function refusalBytes(text: string): Buffer {
  const desc = Buffer.from(text);
  const payload = Buffer.alloc(1 + 4 + 4 + desc.length + 4);
  payload[0] = SSH_MSG_DISCONNECT;
  payload.writeUInt32BE(DISCONNECT_TOO_MANY_CONNECTIONS, 1);
  payload.writeUInt32BE(desc.length, 5);
  desc.copy(payload, 9);
  payload.writeUInt32BE(0, 9 + desc.length); // language tag
  let padding = 8 - ((4 + 1 + payload.length) % 8);
  if (padding < 4) padding += 8;
  const packet = Buffer.alloc(4 + 1 + payload.length + padding);
  packet.writeUInt32BE(1 + payload.length + padding, 0);
  packet[4] = padding;
  payload.copy(packet, 5);
  return Buffer.concat([Buffer.from("SSH-2.0-hostward\r\n"), packet]);
}

function socketOf(client: Connection): Socket | undefined {
  return (client as unknown as { _sock?: Socket })._sock;
}

/** The certificate-carrying key object ssh2 offers first, and the plain key behind it. */
function hostKeys(k: HostKeyMaterial): ParsedKey[] {
  const parsed = utils.parseKey(k.privateKeyPem);
  if (parsed instanceof Error) throw new Error(`host key: ${parsed.message}`);
  const plain = Array.isArray(parsed) ? parsed[0]! : parsed;
  const withCert = Object.create(plain, {
    type: { value: k.certType },
    getPublicSSH: { value: () => Buffer.from(k.certBlob) },
    hostwardSignatureType: { value: plain.type },
  });
  return [withCert, plain];
}
