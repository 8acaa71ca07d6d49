// What the forwarding modules share: one forwarded connection as the audit log sees
// it, the events they report, and the context a live SSH connection gives them.
import type { Connection } from "ssh2";
import type { CertForwardPermits } from "../../core/forward-policy.ts";
import type { Logger } from "../../platform/logger.ts";
import type { AccessGuard, AccessSubject } from "../access-guard.ts";
import type { OsUser } from "../os-user.ts";
import type { PipeBytes } from "./channel-pipe.ts";

/** local: -L/-D/-J (direct-tcpip); remote: -R; the socket kinds are their Unix-socket twins. */
export type ForwardChannelKind = "local" | "remote" | "local-socket" | "remote-socket" | "agent";

export interface Forward {
  id: string;
  kind: ForwardChannelKind;
  /** Who opened it: the client's originator (local) or the peer on the node (remote). */
  source: string;
  /** Where it goes: the target the agent connects to (local) or the node listener it came in on (remote). */
  destination: string;
}

export interface ForwardEvents {
  opened(conn: ForwardingConnection, f: Forward): void;
  closed(conn: ForwardingConnection, f: Forward, bytes: PipeBytes): void;
  refused(conn: ForwardingConnection, f: Omit<Forward, "id">, reason: string): void;
}

/** The logged-in connection, as forwarding needs it. */
export interface ForwardingConnection {
  readonly id: string;
  readonly client: Connection;
  readonly subject: AccessSubject;
  readonly osUser: OsUser;
  readonly permits: CertForwardPermits;
}

export interface ForwardingEnv {
  guard: AccessGuard;
  log: Logger;
  events: ForwardEvents;
  /** The agent runs as root: Unix-socket forwarding is then for the root login only. */
  runningAsRoot: boolean;
}

/** What a listener (-R, -A) asks of its connection's forwarding: the decision, the record, the pipe. */
export interface ForwardGate {
  refusal(kind: ForwardChannelKind): string | undefined;
  refused(f: Omit<Forward, "id">, reason: string, tell?: boolean): void;
  run(kind: ForwardChannelKind, channel: import("ssh2").ServerChannel, socket: import("node:stream").Duplex, source: string, destination: string): void;
}
