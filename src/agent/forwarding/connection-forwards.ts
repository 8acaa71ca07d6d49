// Forwarding on one logged-in SSH connection: decides each request (locks first, then
// certificate and roles), runs the forwarded channels, keeps the -R listeners and the
// agent socket, and ends them all with the connection.
import type { Duplex } from "node:stream";
import type { ServerChannel } from "ssh2";
import { checkForward, type ForwardKind } from "../../core/forward-policy.ts";
import { OPEN_ADMINISTRATIVELY_PROHIBITED, rejectChannel } from "../ssh2-internals.ts";
import { AgentForward } from "./agent-forward.ts";
import { pipeChannel } from "./channel-pipe.ts";
import type { Forward, ForwardChannelKind, ForwardGate, ForwardingConnection, ForwardingEnv } from "./forward-types.ts";
import { connectTcp, connectUnix } from "./local.ts";
import { RemoteListeners } from "./remote.ts";
import { UnixRelays } from "./unix-relay.ts";

const POLICY_KIND: Record<ForwardChannelKind, ForwardKind> = {
  "local": "local", "local-socket": "local", "remote": "remote", "remote-socket": "remote", "agent": "agent",
};

export class ConnectionForwards implements ForwardGate {
  readonly #listeners: RemoteListeners;
  readonly #agent: AgentForward;
  /** -L to a Unix socket for a login other than root, when the agent is root: connected as that user. */
  readonly #relays?: UnixRelays;
  readonly #live = new Set<Duplex>();
  /** Refusals without a channel to carry them (-R, -A): told on the next session's stderr. */
  readonly #notices: string[] = [];

  constructor(private readonly conn: ForwardingConnection, private readonly env: ForwardingEnv) {
    this.#listeners = new RemoteListeners(conn, env, this);
    this.#agent = new AgentForward(conn, env, this);
    if (env.runningAsRoot && conn.osUser.uid !== 0) this.#relays = new UnixRelays(conn.osUser);
    const client = conn.client;
    client.on("tcpip", (accept, reject, info) => {
      const f = { kind: "local" as const, source: `${info.srcIP}:${info.srcPort}`, destination: `${info.destIP}:${info.destPort}` };
      this.#openLocal(f, accept, reject, () => connectTcp(info.destIP, info.destPort));
    });
    client.on("openssh.streamlocal", (accept, reject, info) => {
      const f = { kind: "local-socket" as const, source: "client", destination: String(info.socketPath) };
      const path = String(info.socketPath);
      this.#openLocal(f, accept, reject, () => this.#relays?.connect(path) ?? connectUnix(path));
    });
    client.on("request", (accept, reject, name, info) => this.#listeners.request(name, info, accept, reject));
  }

  /** The reason this kind of forward is refused now, or undefined. */
  refusal(kind: ForwardChannelKind): string | undefined {
    const locked = this.env.guard.check(this.conn.subject);
    if (locked) return locked.reason;
    // Binding as the user would need the listening fd back in the agent: -R stays root's.
    if (kind === "remote-socket" && this.env.runningAsRoot && this.conn.osUser.uid !== 0) {
      return "Unix-socket forwarding is only available to the root login on this node";
    }
    return checkForward(POLICY_KIND[kind], this.conn.subject.roles, this.conn.permits)?.reason;
  }

  /** Records and reports a refusal; `tell` keeps it for the next session's stderr. */
  refused(f: Omit<Forward, "id">, reason: string, tell = false): void {
    this.env.log.info("forward refused", { conn: this.conn.id, user: this.conn.subject.user, kind: f.kind, destination: f.destination, reason });
    this.env.events.refused(this.conn, f, reason);
    if (tell && !this.#notices.includes(reason)) this.#notices.push(reason);
  }

  /** Notices for the next session, each once. */
  takeNotices(): string[] {
    return this.#notices.splice(0);
  }

  /** Runs a forwarded channel against a connected socket and audits both ends of it. */
  run(kind: ForwardChannelKind, channel: ServerChannel, socket: Duplex, source: string, destination: string): void {
    const f: Forward = { id: crypto.randomUUID(), kind, source, destination };
    this.#live.add(channel);
    this.env.events.opened(this.conn, f);
    void pipeChannel(channel, socket).then((bytes) => {
      this.#live.delete(channel);
      this.env.events.closed(this.conn, f, bytes);
    });
  }

  /** SSH_AUTH_SOCK for a session, or the refusal to tell it. */
  agentSocket(): Promise<{ path: string } | { refusal: string }> {
    return this.#agent.socket();
  }

  /** Everything ends with the connection: listeners, the agent socket, open channels. */
  close(): void {
    this.#listeners.close();
    this.#agent.close();
    for (const ch of this.#live) ch.destroy();
  }

  #openLocal(f: Omit<Forward, "id">, accept: () => ServerChannel, reject: () => void, connect: () => Promise<Duplex>): void {
    const refusal = this.refusal(f.kind);
    if (refusal) {
      this.refused(f, refusal);
      return rejectChannel(this.conn.client, reject, OPEN_ADMINISTRATIVELY_PROHIBITED, refusal);
    }
    connect().then((socket) => {
      const channel = accept();
      if (!channel) return void socket.destroy();
      this.run(f.kind, channel, socket, f.source, f.destination);
    }, (e: { code: number; message: string }) => {
      this.refused(f, e.message);
      rejectChannel(this.conn.client, reject, e.code, e.message);
    });
  }
}
