// Session control on the agent, asked by each connection at three points:
// login (max_connections: a lease before the login is accepted), each new session
// channel (max_sessions on this connection), and each session start (max_session_ttl).
// Limits are the smallest over the user's current roles.
import type { Refusal } from "../core/refusal-kind.ts";
import { sessionLimits } from "../core/access-policy.ts";
import type { Duration } from "../core/duration.ts";
import {
  leaseExpiredMessage, leaseRemovedMessage, leaseUnavailableMessage, sessctlLimitMessage, sessionTtlMessage, type SessctlKind,
} from "../core/session-control-messages.ts";
import type { Logger } from "../platform/logger.ts";
import type { AccessSubject } from "./access-guard.ts";
import type { ConnectionLeases } from "./connection-leases.ts";

export interface LimitHit {
  kind: SessctlKind;
  max: number;
}

/** A refusal: its kind, what the user is told, and which limit it was, if one. */
export interface ControlRefusal extends Refusal {
  limit?: LimitHit;
}

export interface ControlledConnection {
  readonly id: string;
  readonly closed: boolean;
  readonly sessions: { readonly size: number };
  close(reason: string): void;
}

export interface ControlledSession {
  readonly id: string;
  terminate(message: string): void;
}

export interface SessionControlHooks {
  /** The agent closed a live connection (or, with a session id, a session): client.disconnect. */
  cut(who: { user: string; login: string }, reason: string, sid?: string): void;
}

export class SessionControl {
  readonly #ttlTimers = new Map<string, Timer>();

  constructor(private readonly leases: ConnectionLeases, private readonly hooks: SessionControlHooks, private readonly log: Logger) {}

  /** Takes a lease when the user's roles set max_connections; undefined = let in. */
  async admitConnection(c: ControlledConnection, s: AccessSubject): Promise<ControlRefusal | undefined> {
    const max = sessionLimits(s.roles).maxConnections;
    if (max === undefined) return undefined;
    const res = await this.leases.acquire(s.user, c.id, max, (why) => this.#leaseLost(c, s, why));
    if (res.ok) {
      if (c.closed) this.leases.release(c.id); // the client left while we waited
      return undefined;
    }
    if (res.full) return { kind: "max_connections", reason: sessctlLimitMessage("connection", s.user, max), limit: { kind: "connection", max } };
    this.log.warn("no session control lease", { conn: c.id, user: s.user, error: res.error });
    return { kind: "session_control", reason: leaseUnavailableMessage(s.user) };
  }

  /** max_sessions: counted against this connection's open session channels. */
  admitSession(c: ControlledConnection, s: AccessSubject): ControlRefusal | undefined {
    const max = sessionLimits(s.roles).maxSessions;
    if (max === undefined || c.sessions.size < max) return undefined;
    return { kind: "max_sessions", reason: sessctlLimitMessage("session", s.user, max), limit: { kind: "session", max } };
  }

  sessionStarted(c: ControlledConnection, session: ControlledSession, s: AccessSubject): void {
    const ttl = sessionLimits(s.roles).maxSessionTtl;
    if (ttl === undefined) return;
    this.#ttlTimers.set(session.id, setTimeout(() => this.#expire(c, session, s, ttl), ttl));
  }

  sessionEnded(session: ControlledSession): void {
    clearTimeout(this.#ttlTimers.get(session.id));
    this.#ttlTimers.delete(session.id);
  }

  connectionClosed(c: ControlledConnection): void {
    this.leases.release(c.id);
  }

  #expire(c: ControlledConnection, session: ControlledSession, s: AccessSubject, ttl: Duration): void {
    this.#ttlTimers.delete(session.id);
    const reason = sessionTtlMessage(ttl);
    this.log.info("closing session at max_session_ttl", { conn: c.id, session: session.id, user: s.user, ttl });
    session.terminate(`hostward: ${reason}`);
    this.hooks.cut(s, reason, session.id);
  }

  #leaseLost(c: ControlledConnection, s: AccessSubject, why: "expired" | "removed"): void {
    if (c.closed) return;
    const reason = why === "expired" ? leaseExpiredMessage(s.user) : leaseRemovedMessage(s.user);
    this.log.warn("closing connection: lease lost", { conn: c.id, user: s.user, why });
    c.close(reason);
    this.hooks.cut(s, reason);
  }
}
