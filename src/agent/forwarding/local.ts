// Local forwarding targets (-L, -D, -J; direct-streamlocal): the agent itself connects
// to the host and port, or Unix socket, the client named, as sshd does.
import { connect, type Socket } from "node:net";
import { OPEN_CONNECT_FAILED } from "../ssh2-internals.ts";

/** Like the kernel's default connect timeout, but bounded so a black hole frees the channel. */
const CONNECT_TIMEOUT_MS = 20_000;

export interface ConnectFailure {
  code: number;
  message: string;
}

// The wording OpenSSH's sshd gives (strerror), which people recognise.
const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: "Connection refused", ETIMEDOUT: "Connection timed out", EHOSTUNREACH: "No route to host",
  ENETUNREACH: "Network is unreachable", ENOTFOUND: "Name or service not known", EAI_AGAIN: "Temporary failure in name resolution",
  ENOENT: "No such file or directory", EACCES: "Permission denied", ECONNRESET: "Connection reset by peer",
};

export function connectTcp(host: string, port: number): Promise<Socket> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return Promise.reject(failure(`bad port ${port}`));
  return connected(connect({ host, port }), `${host}:${port}`);
}

export function connectUnix(path: string): Promise<Socket> {
  if (!path.startsWith("/")) return Promise.reject(failure(`socket path must be absolute: ${path}`));
  return connected(connect({ path }), path);
}

function connected(socket: Socket, target: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })), CONNECT_TIMEOUT_MS);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(failure(`${ERRNO_TEXT[e.code ?? ""] ?? e.message} (${target})`));
    });
  });
}

/** sshd's wording for an errno code (the relay reports codes), else the code itself. */
export function errnoText(code: string): string {
  return ERRNO_TEXT[code] ?? code;
}

export { failure as connectFailure };

function failure(message: string): ConnectFailure {
  return { code: OPEN_CONNECT_FAILED, message };
}
