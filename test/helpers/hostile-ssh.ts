// A logged-in ssh2 client that can send what OpenSSH never would: raw channel and
// global requests of any type and size, many channels, a TCP drop mid-session.
import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { Client, utils, type ClientChannel } from "ssh2";
// @ts-expect-error ssh2 ships no types for its internals
import { sendPacket } from "ssh2/lib/protocol/utils.js";

const MSG_GLOBAL_REQUEST = 80;
const MSG_CHANNEL_OPEN = 90;
const MSG_CHANNEL_REQUEST = 98;

interface Writer { allocStart: number; alloc(n: number): Buffer; finalize(p: Buffer): Buffer }
interface Proto { _packetRW: { write: Writer } }

export interface HostileClient {
  conn: Client;
  /** Text the server sent as SSH_MSG_DISCONNECT (or the error ssh2 saw). */
  disconnected: Promise<string>;
  /** Opens a session channel (no request on it yet). */
  session(): Promise<ClientChannel>;
  /** A CHANNEL_REQUEST of any type with raw type-specific bytes; resolves true on success. */
  channelRequest(ch: ClientChannel, type: string, data: Buffer, wantReply?: boolean): Promise<boolean | undefined>;
  /** A GLOBAL_REQUEST of any name, want-reply false (ssh2 pairs replies in order). */
  globalRequest(name: string, data?: Buffer): void;
  /** A CHANNEL_OPEN of any type with raw type-specific bytes, sender id `id`. */
  channelOpen(type: string, id: number, data?: Buffer): void;
  /** Runs a command on a fresh channel; resolves with its stdout and exit code. */
  exec(command: string): Promise<{ stdout: string; stderr: string; code?: number }>;
  socket(): Socket;
  end(): void;
}

export function sshString(s: string | Buffer): Buffer {
  const b = Buffer.from(s);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function send(conn: Client, body: Buffer): void {
  const proto = (conn as unknown as { _protocol: Proto })._protocol;
  const w = proto._packetRW.write;
  const p = w.allocStart;
  const packet = w.alloc(body.length);
  body.copy(packet, p);
  sendPacket(proto, w.finalize(packet));
}

/** Logs in as `login` with `keyPath` and its certificate `certPath` (as written by ssh-keygen / ctl users sign). */
export function connectHostile(port: number, login: string, keyPath: string, certPath: string): Promise<HostileClient> {
  const parsed = utils.parseKey(readFileSync(keyPath));
  if (parsed instanceof Error) throw parsed;
  const plain = Array.isArray(parsed) ? parsed[0]! : parsed;
  const [certType, certB64] = readFileSync(certPath, "utf8").trim().split(/\s+/);
  const key = Object.create(plain, { type: { value: certType }, getPublicSSH: { value: () => Buffer.from(certB64!, "base64") } });
  const conn = new Client();
  let disconnectText = "";
  const disconnected = new Promise<string>((resolve) => {
    conn.on("error", (e: Error & { description?: string }) => (disconnectText ||= e.description || e.message));
    conn.on("close", () => resolve(disconnectText));
  });
  const client: HostileClient = {
    conn, disconnected,
    session: () => new Promise((resolve, reject) => {
      // ssh2's public API opens a session only together with a request: open it as its openChannel does.
      const internals = conn as unknown as { _chanMgr: { add(v: unknown): number }; _protocol: { session(id: number, w: number, p: number): void } };
      const wrapper = Object.assign((err: Error | undefined, ch: ClientChannel) => (err ? reject(err) : resolve(ch)), { type: "session" });
      internals._protocol.session(internals._chanMgr.add(wrapper), 2 * 1024 * 1024, 32 * 1024);
    }),
    channelRequest: (ch, type, data, wantReply = true) => new Promise((resolve) => {
      const remote = (ch as unknown as { outgoing: { id: number } }).outgoing.id;
      if (wantReply) (ch as unknown as { _callbacks: ((failed: boolean) => void)[] })._callbacks.push((failed) => resolve(!failed));
      send(conn, Buffer.concat([Buffer.from([MSG_CHANNEL_REQUEST]), u32(remote), sshString(type), Buffer.from([wantReply ? 1 : 0]), data]));
      if (!wantReply) resolve(undefined);
    }),
    globalRequest: (name, data = Buffer.alloc(0)) => send(conn, Buffer.concat([Buffer.from([MSG_GLOBAL_REQUEST]), sshString(name), Buffer.from([0]), data])),
    channelOpen: (type, id, data = Buffer.alloc(0)) =>
      send(conn, Buffer.concat([Buffer.from([MSG_CHANNEL_OPEN]), sshString(type), u32(id), u32(1 << 20), u32(32 * 1024), data])),
    exec: (command) => new Promise((resolve, reject) => {
      conn.exec(command, (err, ch) => {
        if (err) return reject(err);
        let stdout = "";
        let stderr = "";
        let code: number | undefined;
        ch.on("data", (d: Buffer) => (stdout += d));
        ch.stderr.on("data", (d: Buffer) => (stderr += d));
        ch.on("exit", (c: number) => (code = c));
        ch.on("close", () => resolve({ stdout, stderr, code }));
      });
    }),
    socket: () => (conn as unknown as { _sock: Socket })._sock,
    end: () => conn.end(),
  };
  return new Promise((resolve, reject) => {
    conn.once("ready", () => resolve(client));
    conn.once("error", reject);
    conn.connect({
      host: "127.0.0.1", port, username: login, readyTimeout: 15_000, hostVerifier: () => true,
      authHandler: [{ type: "publickey", username: login, key } as never],
    });
  });
}
