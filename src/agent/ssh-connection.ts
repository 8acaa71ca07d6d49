// One client connection: certificate authentication, then its session channels.
// It can be closed at any moment with a reason that the client sees first.
import type { Refusal } from "../core/refusal-kind.ts";
import type { AuthContext, Connection } from "ssh2";
import { verifySshSignature } from "../core/ssh-key.ts";
import type { Logger } from "../platform/logger.ts";
import type { AccessGuard, AccessSubject } from "./access-guard.ts";
import { certPermissions, type CertPermissions } from "./cert-attributes.ts";
import { decideLogin } from "./cert-login.ts";
import type { CertForwardPermits } from "../core/forward-policy.ts";
import { ConnectionForwards } from "./forwarding/connection-forwards.ts";
import type { ForwardingEnv } from "./forwarding/forward-types.ts";
import type { ClusterView } from "./cluster-view.ts";
import { lookupOsUser, type OsUser } from "./os-user.ts";
import { SessionChannel, type SessionExit, type SessionOwner } from "./session-channel.ts";
import type { LimitHit, SessionControl } from "./session-control.ts";
import { failChannelRequest, MAX_PACKET_BYTES, sendBanner, sendDisconnect } from "./ssh2-internals.ts";

/** Like sshd's MaxAuthTries (LoginGraceTime and MaxStartups are the listener's: ssh-server.ts). */
const MAX_AUTH_ATTEMPTS = 20;
/** How long a closing connection waits for the client to close the sessions it told why. */
const DISCONNECT_GRACE_MS = 1_000;
/** Open session channels per connection (sshd's MaxSessions is 10); more are refused. */
export const MAX_CHANNELS = 64;
/** The reason recorded for sessions whose connection went away under them. */
export const CLIENT_DISCONNECTED = "client disconnected";

export interface ConnectionEvents {
  /** `limit` set: max_connections or max_sessions refused it (sessctl.limit). */
  rejected(c: SshConnection, refusal: Refusal, user: string | undefined, login: string, limit?: LimitHit): void;
  sessionRejected(c: SshConnection, refusal: Refusal, limit?: LimitHit): void;
  sessionStarted(c: SshConnection, s: SessionChannel): void;
  sessionEnded(c: SshConnection, s: SessionChannel, exit: SessionExit): void;
  closed(c: SshConnection): void;
}

export interface ConnectionEnv {
  view: ClusterView;
  guard: AccessGuard;
  labels: Record<string, string>;
  localAddr: { ip: string; port: number };
  runningAsRoot: boolean;
  agentUser: string;
  log: Logger;
  now: () => Date;
  events: ConnectionEvents;
  control: SessionControl;
  /** Session recording (src/recording); absent = nothing is recorded. */
  record?(c: SshConnection, s: SessionChannel, subject: AccessSubject): ReturnType<NonNullable<SessionOwner["record"]>>;
  /** Port, socket and agent forwarding (src/agent/forwarding); absent = all refused. */
  forwarding?: ForwardingEnv;
}

export class SshConnection {
  readonly id = crypto.randomUUID();
  subject?: AccessSubject;
  osUser?: OsUser;
  /** What the certificate permits (PTY, forwarding, force-command); set at login. */
  permissions?: CertPermissions;
  /** What the certificate permits beyond the login (forwarding): the same, as forwarding reads it. */
  permits: CertForwardPermits = { portForwarding: false, agentForwarding: false };
  #forwards?: ConnectionForwards;
  /** Session channels with a program running. */
  readonly sessions = new Set<SessionChannel>();
  /** Every open session channel, started or not. */
  readonly #channels = new Set<SessionChannel>();
  #closed = false;
  /** Set while close() waits for the channels it told to be closed by the client. */
  #channelClosed?: () => void;
  readonly #told = new Set<string>();
  #attempts = 0;

  constructor(readonly client: Connection, readonly clientAddr: { ip: string; port: number }, private readonly env: ConnectionEnv) {
    client.on("authentication", (ctx) => {
      if (++this.#attempts > MAX_AUTH_ATTEMPTS) return this.close("too many authentication attempts");
      this.#authenticate(ctx);
    });
    client.on("ready", () => this.#ready());
    client.on("error", (e) => this.#onError(e));
    client.on("close", () => {
      this.#closed = true;
      this.#forwards?.close();
      // ssh2 tells a session nothing when its connection drops: end each one here.
      for (const s of this.#channels) s.disconnected(CLIENT_DISCONNECTED);
      env.events.closed(this);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  get user(): string | undefined {
    return this.subject?.user;
  }

  get login(): string | undefined {
    return this.subject?.login;
  }

  /** Tells every session and the client why, then drops the connection. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    const told = [...this.sessions];
    for (const s of told) s.terminate(`hostward: ${reason}`);
    let done = false;
    const disconnect = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.#channelClosed = undefined;
      try {
        sendDisconnect(this.client, reason);
      } catch {
        // socket already gone
      }
      this.client.end();
    };
    // OpenSSH exits on a disconnect without writing what it still holds for the
    // terminal, so the line would be lost: disconnect once the client has closed the
    // told channels (it does after writing their output), or after a bounded wait.
    const timer = setTimeout(disconnect, DISCONNECT_GRACE_MS);
    this.#channelClosed = () => told.every((s) => !this.#channels.has(s)) && disconnect();
    this.#channelClosed();
  }

  /** ssh2 drops a connection whose packet it cannot take; say why before it does. */
  #onError(e: Error): void {
    this.env.log.debug("client error", { conn: this.id, error: e });
    if (!/^Bad packet length/.test(e.message)) return;
    const reason = `packet too large: this agent takes SSH packets of up to ${MAX_PACKET_BYTES} bytes (a command, TERM or other request this long is refused)`;
    this.env.log.warn("connection refused", { conn: this.id, user: this.user, client: this.clientAddr.ip, reason });
    try {
      sendDisconnect(this.client, `hostward: ${reason}`);
    } catch {
      // socket already gone
    }
  }

  #authenticate(ctx: AuthContext): void {
    if (ctx.method !== "publickey") return ctx.reject(["publickey"]);
    const login = ctx.username;
    const decision = decideLogin({ login, keyAlgo: ctx.key.algo, keyData: ctx.key.data, clientAddress: this.clientAddr.ip },
      this.env.view, this.env.guard, this.env.labels, this.env.now());
    if (!decision.ok && decision.plainKey) return ctx.reject(["publickey"]); // clients try their plain keys first
    if (!decision.ok) return this.#refuse(ctx, decision, decision.user, login);
    if (!this.env.runningAsRoot && login !== this.env.agentUser) {
      return this.#refuse(ctx, { kind: "policy", reason: `this agent runs as ${this.env.agentUser} and can only serve that login` }, decision.subject.user, login);
    }
    const osUser = lookupOsUser(login);
    if (!osUser) return this.#refuse(ctx, { kind: "policy", reason: `no OS account named ${JSON.stringify(login)} on this host` }, decision.subject.user, login);
    if (!ctx.signature) return ctx.accept(); // the client's key query: it signs next
    if (!ctx.blob || !verifySshSignature(decision.cert.key.blob, ctx.blob, ctx.signature)) {
      return this.#refuse(ctx, { kind: "certificate", reason: "signature does not verify with the certified key" }, decision.subject.user, login);
    }
    const permissions = certPermissions(decision.cert);
    this.permits = permissions;
    void this.#admit(ctx, decision.subject, osUser, decision.cert.keyId, permissions);
  }

  /** Session control last (it may take a max_connections lease): ssh2 lets us answer later. */
  async #admit(ctx: AuthContext, subject: AccessSubject, osUser: OsUser, keyId: string, permissions: CertPermissions): Promise<void> {
    const refusal = await this.env.control.admitConnection(this, subject);
    if (this.#closed) return;
    if (refusal) return this.#refuse(ctx, refusal, subject.user, subject.login, refusal.limit);
    this.subject = subject;
    this.osUser = osUser;
    this.permissions = permissions;
    this.env.log.info("login", { conn: this.id, user: subject.user, login: subject.login, client: this.clientAddr.ip, key_id: keyId });
    ctx.accept();
  }

  #refuse(ctx: AuthContext, refusal: Refusal, user: string | undefined, login: string, limit?: LimitHit): void {
    const { reason, kind } = refusal;
    // A client offers the same key twice (query, then signed): say each reason once.
    if (!this.#told.has(reason)) {
      this.#told.add(reason);
      this.env.log.warn("login refused", { conn: this.id, user, login, client: this.clientAddr.ip, reason, kind });
      sendBanner(this.client, `hostward: ${reason}`);
      this.env.events.rejected(this, { kind, reason }, user, login, limit);
    }
    ctx.reject(["publickey"]);
  }

  #ready(): void {
    const { osUser, subject, permissions } = this;
    if (!osUser || !subject || !permissions) return void this.client.end();
    const forwarding = this.env.forwarding;
    if (forwarding) this.#forwards = new ConnectionForwards({ id: this.id, client: this.client, subject, osUser, permits: this.permits }, forwarding);
    this.client.on("session", (accept, reject) => {
      if (this.#channels.size >= MAX_CHANNELS) {
        this.env.log.warn("session channel refused", { conn: this.id, user: subject.user, reason: `more than ${MAX_CHANNELS} open session channels` });
        return reject();
      }
      const session = accept();
      const channel = new SessionChannel(session, {
        user: subject.user, login: subject.login, osUser, permissions,
        failRequest: (sess) => failChannelRequest(this.client, sess),
        sshConnection: `${this.clientAddr.ip} ${this.clientAddr.port} ${this.env.localAddr.ip} ${this.env.localAddr.port}`,
        switchUser: this.env.runningAsRoot,
        log: this.env.log,
        admit: () => this.#admitSession(subject),
        record: this.env.record && ((s) => this.env.record!(this, s, subject)),
        agentForward: this.#forwards && (() => this.#forwards!.agentSocket()),
        notices: () => this.#forwards?.takeNotices() ?? [],
        started: (s) => {
          this.sessions.add(s);
          this.env.control.sessionStarted(this, s, subject);
          this.env.events.sessionStarted(this, s);
        },
        ended: (s, exit) => {
          this.sessions.delete(s);
          this.env.control.sessionEnded(s);
          this.env.events.sessionEnded(this, s, exit);
        },
      });
      this.#channels.add(channel);
      session.once("close", () => {
        this.#channels.delete(channel);
        this.#channelClosed?.();
      });
    });
    if (!forwarding) {
      this.client.on("tcpip", (_accept, reject) => reject());
      this.client.on("request", (_accept, reject) => reject?.());
    }
  }

  #admitSession(subject: AccessSubject): string | undefined {
    const lock = this.env.guard.check(subject);
    const limited = lock ? undefined : this.env.control.admitSession(this, subject);
    const refusal = lock ?? limited;
    if (refusal) this.env.events.sessionRejected(this, { kind: refusal.kind, reason: refusal.reason }, limited?.limit);
    return refusal ? `hostward: ${refusal.reason}` : undefined;
  }
}
