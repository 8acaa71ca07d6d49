// Role evaluation: which logins on which nodes, session limits, locking mode,
// whether to record, and which API actions a set of roles permits.

import type { Duration } from "./duration.ts";
import type { ApiResource, ClusterConfig, LockingMode, Role, Verb } from "./resource-types.ts";

export type LoginDecision = { ok: true } | { ok: false; reason: string };

/** Allowed when no role denies the login and some role allows it (exactly) on a node with these labels. */
export function checkLogin(roles: Role[], login: string, nodeLabels: Record<string, string>): LoginDecision {
  const q = JSON.stringify(login);
  const denier = roles.find((r) => r.deny.logins.includes(login));
  if (denier) return { ok: false, reason: `login ${q} is denied by role ${JSON.stringify(denier.name)}` };
  const allowing = roles.filter((r) => r.allow.logins.includes(login));
  if (allowing.length === 0) return { ok: false, reason: `login ${q} is not allowed by any role` };
  if (!allowing.some((r) => nodeLabelsMatch(r.allow.nodeLabels, nodeLabels))) {
    return { ok: false, reason: "no role allows access to this node" };
  }
  return { ok: true };
}

/**
 * Whether a role's node_labels select a node. Every key must be present on the node with one of
 * the listed values; "*" accepts any value but still needs the key, and `"*" = "*"` selects every
 * node. An empty node_labels selects every node: a role that grants logins but forgets node_labels
 * should just work (unlike Teleport, where it selects none); narrow it with labels when needed.
 */
export function nodeLabelsMatch(want: Record<string, string[]>, node: Record<string, string>): boolean {
  for (const [key, values] of Object.entries(want)) {
    if (key === "*" && values.includes("*")) continue;
    if (!Object.hasOwn(node, key)) return false;
    if (!values.includes("*") && !values.includes(node[key]!)) return false;
  }
  return true;
}

/** The OS logins to put in a certificate: union of allowed minus union of denied, sorted. */
export function allowedLogins(roles: Role[]): string[] {
  const denied = new Set(roles.flatMap((r) => r.deny.logins));
  const allowed = new Set(roles.flatMap((r) => r.allow.logins).filter((l) => !denied.has(l)));
  return [...allowed].sort();
}

/** For each limit, the smallest value among the roles that set it; absent = unlimited. */
export function sessionLimits(roles: Role[]): { maxConnections?: number; maxSessions?: number; maxSessionTtl?: Duration } {
  const out: { maxConnections?: number; maxSessions?: number; maxSessionTtl?: Duration } = {};
  for (const { options: o } of roles) {
    if (o.maxConnections !== undefined) out.maxConnections = Math.min(out.maxConnections ?? Infinity, o.maxConnections);
    if (o.maxSessions !== undefined) out.maxSessions = Math.min(out.maxSessions ?? Infinity, o.maxSessions);
    if (o.maxSessionTtl !== undefined) {
      out.maxSessionTtl = Math.min(out.maxSessionTtl ?? Infinity, o.maxSessionTtl) as Duration;
    }
  }
  return out;
}

/** strict if any role says strict, else a role's own setting, else the cluster's. */
export function lockingModeFor(roles: Role[], cluster: ClusterConfig): LockingMode {
  if (roles.some((r) => r.options.lock === "strict")) return "strict";
  return roles.find((r) => r.options.lock !== undefined)?.options.lock ?? cluster.lockingMode;
}

/** Off when the cluster says off; otherwise recorded unless every role sets record_session.ssh = false. */
export function shouldRecord(roles: Role[], cluster: ClusterConfig): boolean {
  if (cluster.sessionRecording === "off") return false;
  if (roles.length === 0) return true;
  return roles.some((r) => r.options.recordSession?.ssh !== false);
}

/** Whether the roles permit an API action; a matching deny rule wins over any allow rule. */
export function ruleAllows(roles: Role[], resource: ApiResource, verb: Verb): boolean {
  const covers = (rule: { resources: ApiResource[]; verbs: Verb[] }) =>
    rule.resources.includes(resource) && rule.verbs.includes(verb);
  if (roles.some((r) => r.deny.rules.some(covers))) return false;
  return roles.some((r) => r.allow.rules.some(covers));
}

/** The refusal for an API call outside the caller's rules (seed 003). */
export function accessDeniedMessage(resource: ApiResource, verb: Verb): string {
  return `access denied to perform action ${JSON.stringify(verb)} on ${JSON.stringify(resource)}`;
}
