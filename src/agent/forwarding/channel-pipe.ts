// Joins a forwarded SSH channel and a socket on the node both ways, with backpressure
// (stream.pipe) and half-close, and counts the bytes for the audit event at close.
import type { Duplex } from "node:stream";

export interface PipeBytes {
  /** From the SSH client to the socket on the node. */
  toNode: number;
  /** From the socket on the node to the SSH client. */
  toClient: number;
}

/** Resolves when both sides are closed; either side failing closes the other. */
export function pipeChannel(channel: Duplex, socket: Duplex): Promise<PipeBytes> {
  const bytes: PipeBytes = { toNode: 0, toClient: 0 };
  channel.on("data", (d: Buffer) => (bytes.toNode += d.length));
  socket.on("data", (d: Buffer) => (bytes.toClient += d.length));
  channel.pipe(socket);
  socket.pipe(channel);
  const closed = (s: Duplex) => new Promise<void>((resolve) => {
    if (s.destroyed) return resolve();
    s.once("close", () => resolve());
  });
  const fail = () => {
    socket.destroy();
    channel.destroy();
  };
  socket.on("error", fail);
  channel.on("error", fail);
  // A channel closed by the client (or by a cut connection) ends the socket at once.
  channel.once("close", () => socket.destroy());
  socket.once("close", () => channel.end());
  return Promise.all([closed(channel), closed(socket)]).then(() => bytes);
}
