// The two SSH messages ssh2 cannot send with text: a userauth banner (how an OpenSSH
// client shows why a login was refused) and a disconnect with a description.
// Both reach into ssh2 1.17's protocol object; the version is pinned in package.json.
// @ts-expect-error ssh2 ships no types for its internals
import { sendPacket } from "ssh2/lib/protocol/utils.js";

const MSG_DISCONNECT = 1;
const MSG_USERAUTH_BANNER = 53;
export const DISCONNECT_BY_APPLICATION = 11;
/** ssh2's limit on an incoming packet (MAX_PACKET_SIZE in lib/protocol/crypto.js); a larger one ends the connection. */
export const MAX_PACKET_BYTES = 35_000;

interface Protocol {
  _packetRW: { write: { allocStart: number; allocStartKEX: number; alloc(n: number, force?: boolean): Buffer; finalize(p: Buffer, force?: boolean): Buffer } };
}

function protocolOf(client: unknown): Protocol | undefined {
  return (client as { _protocol?: Protocol })._protocol;
}

/** Sends text the client prints before its next prompt (OpenSSH shows it at LogLevel INFO). */
export function sendBanner(client: unknown, text: string): void {
  const proto = protocolOf(client);
  if (!proto) return;
  const msg = text.endsWith("\r\n") ? text : text.replace(/\n?$/, "\r\n");
  const len = Buffer.byteLength(msg);
  const w = proto._packetRW.write;
  let p = w.allocStart;
  const packet = w.alloc(1 + 4 + len + 4);
  packet[p] = MSG_USERAUTH_BANNER;
  packet.writeUInt32BE(len, ++p);
  packet.write(msg, (p += 4), len, "utf8");
  packet.writeUInt32BE(0, p + len);
  sendPacket(proto, w.finalize(packet));
}

/** Sends SSH_MSG_DISCONNECT with a description (OpenSSH prints "Received disconnect … : <text>"). */
export function sendDisconnect(client: unknown, description: string, reason = DISCONNECT_BY_APPLICATION): void {
  const proto = protocolOf(client);
  if (!proto) return;
  const len = Buffer.byteLength(description);
  const w = proto._packetRW.write;
  let p = w.allocStartKEX;
  const packet = w.alloc(1 + 4 + 4 + len + 4, true);
  packet[p] = MSG_DISCONNECT;
  packet.writeUInt32BE(reason, ++p);
  packet.writeUInt32BE(len, (p += 4));
  packet.write(description, (p += 4), len, "utf8");
  packet.writeUInt32BE(0, p + len);
  sendPacket(proto, w.finalize(packet, true), true);
}

/**
 * Answers a session's channel request with SSH_MSG_CHANNEL_FAILURE. ssh2's own reject
 * does nothing once the session runs a program, leaving a client waiting forever.
 */
export function failChannelRequest(client: unknown, session: unknown): void {
  const proto = (client as { _protocol?: { channelFailure(id: number): void } })._protocol;
  const id = (session as { _chanInfo?: { outgoing?: { id?: number } } })._chanInfo?.outgoing?.id;
  if (proto && typeof id === "number") proto.channelFailure(id);
}

/** SSH_MSG_CHANNEL_OPEN_FAILURE reason codes (RFC 4254 §5.1). */
export const OPEN_ADMINISTRATIVELY_PROHIBITED = 1;
export const OPEN_CONNECT_FAILED = 2;

interface ChannelProtocol {
  channelOpenFail(remote: number, reason: number, desc?: string): void;
  openssh_authAgent(chan: number, initWindow: number, maxPacket: number): void;
}

/**
 * Refuses a channel open with a reason code and a description the client prints
 * ("open failed: administratively prohibited: …"); ssh2's reject() sends an empty one.
 * reject() sends synchronously, so the override is in place only for that call.
 */
export function rejectChannel(client: unknown, reject: () => void, code: number, description: string): void {
  const proto = (client as { _protocol?: ChannelProtocol })._protocol;
  if (!proto) return reject();
  const own = Object.hasOwn(proto, "channelOpenFail");
  const original = proto.channelOpenFail;
  proto.channelOpenFail = (remote: number) => original.call(proto, remote, code, description);
  try {
    reject();
  } finally {
    if (own) proto.channelOpenFail = original;
    else delete (proto as Partial<ChannelProtocol>).channelOpenFail;
  }
}

// ssh2's Channel.js window and packet sizes, which its own channel opens use.
const MAX_WINDOW = 2 * 1024 * 1024;
const PACKET_SIZE = 32 * 1024;

/**
 * Opens an auth-agent@openssh.com channel to the client (agent forwarding): ssh2's server
 * has the protocol message but no public method, so this does what its openChannel does.
 */
export function openAuthAgentChannel(client: unknown, cb: (err: Error | undefined, stream?: import("ssh2").ServerChannel) => void): void {
  const c = client as { _protocol?: ChannelProtocol; _chanMgr?: { add(v: unknown): number } };
  if (!c._protocol || !c._chanMgr) return cb(new Error("connection is gone"));
  const wrapper = (err: Error | undefined, stream?: import("ssh2").ServerChannel) => cb(err, stream);
  (wrapper as { type?: string }).type = "auth-agent@openssh.com";
  const chan = c._chanMgr.add(wrapper);
  if (chan === -1) return cb(new Error("no free channels"));
  c._protocol.openssh_authAgent(chan, MAX_WINDOW, PACKET_SIZE);
}
