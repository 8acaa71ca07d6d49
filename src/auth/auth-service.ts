// The control plane's operations, independent of HTTP: resources with their change
// feed and audit trail, join tokens, node registry, certificates.
import { SemaphoreService } from "./semaphore-service.ts";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { LockIndex } from "../core/lock-index.ts";
import { lockIsActive } from "../core/lock-match.ts";
import { parseResource } from "../core/resources.ts";
import type { Lock, Resource, ResourceKind, Role } from "../core/resource-types.ts";
import type { Duration } from "../core/duration.ts";
import { parseAuthorizedKeyLine } from "../core/ssh-key.ts";
import type { Logger } from "../platform/logger.ts";
import { badRequest, conflict, forbidden, notFound, unauthorized } from "./http-error.ts";
import type { SshCas } from "./ssh-cas.ts";
import type { AuditEvent, Change, FeedSnapshot, NodeRecord, Store } from "./store.ts";
import { guardLastAdmin, type PendingChange } from "./admin-guard.ts";
import type { ApiRefusal } from "./api-refusal.ts";
import { certificateRefusal, escalationRefusal, type Grantor } from "./escalation-guard.ts";
import type { Verb } from "../core/resource-types.ts";
import { issueHostCert, issueUserCert, type IssuedCert } from "./user-certs.ts";
import { WatchHub, type FeedFollower } from "./watch-hub.ts";
import { SessionCommandRelay } from "./session-command-relay.ts";
import { StoreHealth } from "./store-health.ts";
import { OFFLINE_AFTER_MS } from "../core/heartbeat.ts";
import type { NodeHealth } from "../core/node-health.ts";

const HOST_CERT_TTL_MS = 365 * 24 * 3600 * 1000;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface JoinRequest {
  token: string;
  serverId: string;
  hostname: string;
  addr: string;
  labels: Record<string, string>;
  identityKey: string;
  hostKey: string;
  version: string;
}

export type NodeState = "online" | "offline" | "locked";

type AuditFields = Omit<AuditEvent, "uid" | "time"> & { uid?: string; time?: string };

export class AuthService implements FeedFollower {
  readonly storeHealth = new StoreHealth();
  #locks = new LockIndex();

  constructor(
    readonly store: Store,
    readonly cas: SshCas,
    readonly clusterName: string,
    readonly caPin: string,
    readonly log: Logger,
    readonly now: () => Date = () => new Date(),
    /** This replica's id among those sharing the store (its row in `replicas`). */
    readonly replicaId: string = randomUUID(),
  ) {
    this.semaphores = new SemaphoreService(store, now);
    this.hub = new WatchHub(store, () => [cas.user.publicLine], log, this);
    this.commands = new SessionCommandRelay(store, this.hub, replicaId, log, now);
  }

  /** Session commands (terminate) to a node's agent, on whichever replica its feed is. */
  readonly commands: SessionCommandRelay;

  /** The change feed to agents; it follows the store and keeps this service's lock index current. */
  readonly hub: WatchHub;

  /** max_connections leases: the one way routes reach the semaphore store. */
  readonly semaphores: SemaphoreService;

  /** Validates an external-form resource (a new lock gets its name here). */
  parse(obj: unknown, source = "request"): Resource {
    return parseResource(obj, source, { now: this.now(), newName: randomUUID });
  }

  /** The refusal for a change that would grant `grantor` (or anyone) what they do not hold. */
  escalation(grantor: Grantor, change: PendingChange, verb: Verb): Promise<ApiRefusal | undefined> {
    return escalationRefusal(this.store, grantor, change, verb);
  }

  /** The refusal for signing a certificate for a user who holds more than `grantor`. */
  certificateEscalation(grantor: Grantor, userName: string): Promise<ApiRefusal | undefined> {
    return certificateRefusal(this.store, grantor, userName);
  }

  /** Validates an external-form resource and stores it; locks get their audit event. */
  putResource(obj: unknown, actor: string, source = "request"): Promise<Resource> {
    return this.putParsed(this.parse(obj, source), actor);
  }

  async putParsed(r: Resource, actor: string): Promise<Resource> {
    const stored = r.kind === "lock" ? { ...r, createdBy: actor, createdAt: this.now() } : r;
    const rev = await this.store.atomically(async (tx) => {
      // Users and roles are checked and written under one lock: two replicas must not
      // each remove "the other" last administrator.
      if (stored.kind === "user" || stored.kind === "role") await tx.lock("admins");
      if (stored.kind === "user") await requireRoles(tx, stored.roles);
      await guardLastAdmin(tx, { put: stored });
      const rev = await tx.putResource(stored);
      // In the same transaction: a replica dying in between must not leave a lock without its event.
      if (stored.kind === "lock") await tx.appendEvent(this.#event({ event: "lock.created", code: "TLK00I", user: actor, name: stored.name, target: stored.target, message: stored.message ?? "" }));
      return rev;
    });
    await this.#published(rev);
    return stored;
  }

  async deleteResource(kind: ResourceKind, name: string, actor: string): Promise<void> {
    if (kind === "cluster_config") throw badRequest("cluster_config cannot be deleted; create it again to change it");
    const rev = await this.store.atomically(async (tx) => {
      if (kind === "user" || kind === "role") await tx.lock("admins");
      await guardLastAdmin(tx, { delete: { kind, name } });
      const rev = await tx.deleteResource(kind, name);
      if (rev !== undefined && kind === "lock") await tx.appendEvent(this.#event({ event: "lock.deleted", code: "TLK01I", user: actor, name }));
      return rev;
    });
    if (rev === undefined) throw notFound(`${kind} ${JSON.stringify(name)} not found`);
    await this.#published(rev);
  }

  activeLocks(): Lock[] {
    const now = this.now();
    return this.locks().all().filter((l) => lockIsActive(l, now));
  }

  /**
   * Every lock, indexed, kept in memory: API calls, heartbeats and node listings ask
   * about locks all the time and must not decode the whole table each time. The index
   * follows the change feed (applyChange), so a lock made through another replica
   * sharing the database reaches it too.
   */
  locks(): LockIndex {
    return this.#locks;
  }

  /** Loads the lock index from a feed snapshot of locks; the changes after it follow through applyChange. */
  reset(snap: FeedSnapshot): void {
    const index = new LockIndex();
    for (const l of snap.resources) if (l.kind === "lock") index.put(l);
    this.#locks = index;
  }

  /** A change read from the feed, in revision order (whichever replica made it). */
  apply(c: Change): void {
    if (c.kind !== "lock") return;
    if (c.op === "delete") this.#locks.remove(c.name);
    else if (c.resource) this.#locks.put(parseResource(c.resource, "feed", { now: new Date(0) }) as Lock);
  }

  async createToken(ttl: Duration, reusable: boolean, actor: string): Promise<{ token: string; expiresAt: Date }> {
    const token = randomBytes(24).toString("hex");
    const expiresAt = new Date(this.now().getTime() + ttl);
    await this.store.addToken({ hash: hashToken(token), expiresAt, reusable, createdBy: actor, createdAt: this.now() });
    return { token, expiresAt };
  }

  async join(req: JoinRequest): Promise<{ hostCert: string; node: NodeRecord }> {
    if (!UUID_RE.test(req.serverId)) throw badRequest("server_id must be a lowercase UUID");
    // The token is used, the node stored and its event written in one transaction: a
    // replica dying half-way leaves the token usable and no node without its event.
    const { node, hostCert } = await this.store.atomically(async (tx) => {
      const use = await tx.useToken(hashToken(req.token), this.now());
      if (!use.ok) throw unauthorized(`join token is ${use.reason === "unknown" ? "not valid" : use.reason === "used" ? "already used" : "expired"}`);
      this.#refuseLockedNode(req.serverId);
      const existing = await tx.getNode(req.serverId);
      if (existing && existing.identityKey !== req.identityKey) {
        throw conflict(`server_id ${req.serverId} is already registered with another key; remove the node first`);
      }
      const node: NodeRecord = {
        serverId: req.serverId, hostname: req.hostname, addr: req.addr, labels: req.labels,
        identityKey: req.identityKey, hostKey: req.hostKey, joinedAt: existing?.joinedAt ?? this.now(), lastSeen: this.now(), version: req.version,
      };
      const hostCert = this.#hostCert(node);
      await tx.upsertNode(node);
      await tx.appendEvent(this.#event({ event: "node.join", code: "TJ001I", server_id: node.serverId, hostname: node.hostname, addr: node.addr }));
      return { node, hostCert };
    });
    this.log.info("node joined", { server_id: node.serverId, hostname: node.hostname });
    return { hostCert, node };
  }

  /** The last health report of each node (kept in memory: it is only as good as its age). */
  readonly health = new Map<string, NodeHealth>();

  async heartbeat(serverId: string, fields: { addr?: string; labels?: Record<string, string>; version?: string }, health?: NodeHealth): Promise<void> {
    this.#refuseLockedNode(serverId);
    if (health) this.health.set(serverId, health);
    await this.store.touchNode(serverId, this.now(), fields);
  }

  /** A fresh host certificate for a registered node's current host key. */
  async renewHostCert(serverId: string, hostKey: string): Promise<string> {
    this.#refuseLockedNode(serverId);
    const node = await this.store.getNode(serverId);
    if (!node) throw notFound("node not registered");
    const updated = { ...node, hostKey };
    await this.store.upsertNode(updated);
    return this.#hostCert(updated);
  }

  nodeState(n: NodeRecord): NodeState {
    if (this.#nodeLock(n.serverId)) return "locked";
    return this.now().getTime() - n.lastSeen.getTime() <= OFFLINE_AFTER_MS ? "online" : "offline";
  }

  async signUserCert(name: string, pubkeyLine: string, ttl: Duration): Promise<IssuedCert> {
    const user = await this.store.getResource("user", name);
    if (!user) throw notFound(`user ${JSON.stringify(name)} not found`);
    let key;
    try {
      key = parseAuthorizedKeyLine(pubkeyLine);
    } catch (e) {
      throw badRequest(`public key: ${(e as Error).message}`);
    }
    const roles = await requireRoles(this.store, user.roles);
    return issueUserCert(user, roles, key, ttl, this.cas.user, this.now());
  }

  async audit(fields: AuditFields): Promise<void> {
    await this.store.appendEvent(this.#event(fields));
  }

  #event(fields: AuditFields): AuditEvent {
    return { uid: randomUUID(), time: this.now().toISOString(), ...fields } as AuditEvent;
  }

  /** Our own write is in the lock index and on its way to the agents before we answer. */
  async #published(rev: number): Promise<void> {
    await this.hub.syncTo(rev);
  }

  /** A lock whose target is this server UUID alone: the node is being unregistered. */
  #nodeLock(serverId: string): Lock | undefined {
    return this.locks().match({ serverId }, this.now());
  }

  #refuseLockedNode(serverId: string): void {
    if (this.#nodeLock(serverId)) throw forbidden(`node ${serverId} is locked; remove the lock on its server_id to let it back`);
  }

  #hostCert(n: NodeRecord): string {
    const host = n.addr.replace(/^\[?(.*?)\]?:\d+$/, "$1");
    return issueHostCert(n.serverId, [n.hostname, host, "localhost", "127.0.0.1", "::1"], parseAuthorizedKeyLine(n.hostKey), this.cas.host, this.now(), HOST_CERT_TTL_MS);
  }
}

async function requireRoles(store: Store, names: string[]): Promise<Role[]> {
  const roles: Role[] = [];
  for (const n of names) {
    const role = await store.getResource("role", n);
    if (!role) throw badRequest(`role ${JSON.stringify(n)} does not exist`);
    roles.push(role);
  }
  return roles;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
