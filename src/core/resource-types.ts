// The resource model in its internal (camelCase) form: roles, users, locks, cluster_config.
// Parsing and the external snake_case form live in resources.ts and the *-resource.ts files.

import { ms, type Duration } from "./duration.ts";

export type LockingMode = "strict" | "best_effort";
export type RecordingMode = "off" | "node" | "node-sync";
export const LOCKING_MODES = ["strict", "best_effort"] as const satisfies readonly LockingMode[];
export const RECORDING_MODES = ["off", "node", "node-sync"] as const satisfies readonly RecordingMode[];

export const API_RESOURCES = [
  "lock", "role", "user", "token", "node", "session", "recording", "event", "cluster_config", "semaphore",
] as const;
export type ApiResource = (typeof API_RESOURCES)[number];
export const VERBS = ["list", "read", "create", "update", "delete"] as const;
export type Verb = (typeof VERBS)[number];

export interface Rule {
  resources: ApiResource[];
  verbs: Verb[];
}

export interface RoleOptions {
  maxConnections?: number;
  maxSessions?: number;
  maxSessionTtl?: Duration;
  lock?: LockingMode;
  recordSession?: { ssh?: boolean };
  /** Unset keys fall back to core/forward-policy.ts's defaults. */
  portForwarding?: { local?: boolean; remote?: boolean; gatewayPorts?: boolean };
  forwardAgent?: boolean;
}

export interface Role {
  kind: "role";
  name: string;
  options: RoleOptions;
  allow: { logins: string[]; nodeLabels: Record<string, string[]>; rules: Rule[] };
  deny: { logins: string[]; rules: Rule[] };
}

export interface User {
  kind: "user";
  name: string;
  roles: string[];
  createdAt?: Date;
}

export interface LockTarget {
  user?: string;
  role?: string;
  login?: string;
  serverId?: string;
  mfaDevice?: string;
  device?: string;
  accessRequest?: string;
  windowsDesktop?: string;
}

/** Target fields in display order: [internal key, external key, name shown in messages]. */
export const LOCK_TARGET_FIELDS = [
  ["user", "user", "User"],
  ["role", "role", "Role"],
  ["login", "login", "Login"],
  ["serverId", "server_id", "ServerID"],
  ["mfaDevice", "mfa_device", "MFADevice"],
  ["device", "device", "Device"],
  ["accessRequest", "access_request", "AccessRequest"],
  ["windowsDesktop", "windows_desktop", "WindowsDesktop"],
] as const satisfies readonly (readonly [keyof LockTarget, string, string])[];

export interface Lock {
  kind: "lock";
  name: string;
  message?: string;
  expires?: Date;
  target: LockTarget;
  createdBy?: string;
  createdAt?: Date;
}

export interface ClusterConfig {
  kind: "cluster_config";
  name: "cluster_config";
  sessionRecording: RecordingMode;
  lockingMode: LockingMode;
  sessionControlTimeout: Duration;
  lockMaxStaleness: Duration;
}

export const DEFAULT_CLUSTER_CONFIG: ClusterConfig = Object.freeze({
  kind: "cluster_config",
  name: "cluster_config",
  sessionRecording: "node",
  lockingMode: "best_effort",
  sessionControlTimeout: ms(2 * 60_000),
  lockMaxStaleness: ms(5 * 60_000),
});

export type Resource = Role | User | Lock | ClusterConfig;
export type ResourceKind = Resource["kind"];
export const RESOURCE_KINDS = ["role", "user", "lock", "cluster_config"] as const satisfies readonly ResourceKind[];

const _NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;
const _UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Names are [A-Za-z0-9][A-Za-z0-9._@-]{0,127}; lock names are UUIDs; cluster_config is a singleton. */
export function isValidName(kind: ResourceKind, name: string): boolean {
  if (kind === "lock") return _UUID.test(name);
  if (kind === "cluster_config") return name === "cluster_config";
  return _NAME.test(name);
}

/** What resource parsing needs from the caller: the time, and how to name a lock given without one. */
export interface ResourceParseOptions {
  now: Date;
  /** Makes a lock name when the input has none; crypto.randomUUID when not given. */
  newName?: () => string;
  /** Accept locks whose `expires` has passed (reading back stored locks rather than taking new ones). */
  acceptExpired?: boolean;
}
