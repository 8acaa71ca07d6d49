// Agent forwarding (-A, auth-agent-req@openssh.com): one socket per connection, as sshd,
// in a fresh 0700 directory owned by the login user; every connection to it becomes an
// auth-agent@openssh.com channel to the client. Removed when the connection ends.
import { chmodSync, chownSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openAuthAgentChannel } from "../ssh2-internals.ts";
import type { ForwardGate, ForwardingConnection, ForwardingEnv } from "./forward-types.ts";

export class AgentForward {
  #dir?: string;
  #server?: Server;
  #path?: Promise<string>;
  #closed = false;

  constructor(private readonly conn: ForwardingConnection, private readonly env: ForwardingEnv, private readonly forwards: ForwardGate) {}

  async socket(): Promise<{ path: string } | { refusal: string }> {
    const refusal = this.forwards.refusal("agent");
    if (refusal) {
      this.forwards.refused({ kind: "agent", source: "client", destination: "SSH_AUTH_SOCK" }, refusal);
      return { refusal };
    }
    this.#path ??= this.#listen();
    try {
      return { path: await this.#path };
    } catch (e) {
      return { refusal: `agent forwarding failed on this node: ${(e as Error).message}` };
    }
  }

  close(): void {
    this.#closed = true;
    this.#server?.close();
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
  }

  async #listen(): Promise<string> {
    const { uid, gid } = this.conn.osUser;
    const dir = mkdtempSync(join(tmpdir(), "hostward-agent-"));
    this.#dir = dir;
    chmodSync(dir, 0o700);
    const path = join(dir, `agent.${process.pid}`);
    const server = createServer({ pauseOnConnect: true }, (s) => this.#forward(s, path));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => resolve());
    });
    chmodSync(path, 0o600);
    // Only the login user (and root) can reach the socket: the directory is theirs alone.
    if (process.getuid?.() === 0) {
      chownSync(path, uid, gid);
      chownSync(dir, uid, gid);
    }
    if (this.#closed) this.close();
    return path;
  }

  #forward(s: Socket, path: string): void {
    const refusal = this.forwards.refusal("agent");
    if (refusal) return void s.destroy();
    openAuthAgentChannel(this.conn.client, (err, channel) => {
      if (err || !channel) return void s.destroy();
      this.forwards.run("agent", channel, s, "node", path);
      s.resume();
    });
  }
}
