// `hostward internal unix-connect PATH`: the relay the agent starts as the login user
// for -L to a Unix socket, so the kernel checks the user's permissions, never root's.
// Protocol on stdout: one line, `OK` once connected or `ERR <errno code>`, then the
// socket's bytes; stdin goes to the socket. Small on purpose: node:net and stdio only.
import { connect } from "node:net";

/** Like the agent's own connect timeout (local.ts): a black hole frees the channel. */
const CONNECT_TIMEOUT_MS = 20_000;

export function runUnixConnect(args: string[]): Promise<void> {
  const path = args[0];
  if (args.length !== 1 || !path?.startsWith("/")) return fail("EINVAL");
  return new Promise<void>((resolve) => {
    const socket = connect({ path, allowHalfOpen: true });
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })), CONNECT_TIMEOUT_MS);
    socket.once("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      void fail(e.code ?? "EIO").then(resolve);
    });
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      process.stdout.write("OK\n");
      // Both ways with backpressure; the client's EOF half-closes the socket, and the
      // relay is done when the socket is (its stdout then ends, which the agent sees).
      process.stdin.pipe(socket);
      socket.pipe(process.stdout);
      const done = () => process.exit(0);
      socket.once("error", () => process.exit(1));
      socket.once("close", () => (process.stdout.writableLength ? process.stdout.once("drain", done) : done()));
      process.stdout.once("error", () => process.exit(1));
    });
  });
}

function fail(code: string): Promise<void> {
  return new Promise((resolve) => process.stdout.write(`ERR ${code}\n`, () => {
    process.exitCode = 1;
    resolve();
  }));
}
