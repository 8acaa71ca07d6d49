// The role resource: validation of its external form and conversion back to it.
// Options, allowed/denied logins, node labels and API rules.

import { formatDuration } from "./duration.ts";
import { readName } from "./resource-name.ts";
import { API_RESOURCES, LOCKING_MODES, VERBS, type Role, type RoleOptions, type Rule } from "./resource-types.ts";
import { describe, TableReader } from "./table-reader.ts";

const _OPTION_KEYS = ["max_connections", "max_sessions", "max_session_ttl", "lock", "record_session", "port_forwarding", "forward_agent"];

export function parseRole(r: TableReader): Role {
  const name = readName(r, "role");
  const allow = r.table("allow", ["logins", "node_labels", "rules"]);
  const deny = r.table("deny", ["logins", "rules"]);
  return {
    kind: "role",
    name,
    options: _options(r.table("options", _OPTION_KEYS)),
    allow: {
      logins: allow?.stringList("logins", _badLogin) ?? [],
      nodeLabels: _nodeLabels(allow?.table("node_labels", "any")),
      rules: _rules(allow),
    },
    deny: { logins: deny?.stringList("logins", _badLogin) ?? [], rules: _rules(deny) },
  };
}

export function roleToExternal(role: Role): Record<string, unknown> {
  const o = role.options;
  const options: Record<string, unknown> = {};
  if (o.maxConnections !== undefined) options.max_connections = o.maxConnections;
  if (o.maxSessions !== undefined) options.max_sessions = o.maxSessions;
  if (o.maxSessionTtl !== undefined) options.max_session_ttl = formatDuration(o.maxSessionTtl);
  if (o.lock !== undefined) options.lock = o.lock;
  if (o.recordSession !== undefined) options.record_session = { ...o.recordSession };
  if (o.portForwarding !== undefined) options.port_forwarding = _portForwardingOut(o.portForwarding);
  if (o.forwardAgent !== undefined) options.forward_agent = o.forwardAgent;
  const labels: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(role.allow.nodeLabels)) labels[k] = v.length === 1 ? v[0] : [...v];
  return {
    kind: "role",
    name: role.name,
    options,
    allow: { logins: [...role.allow.logins], node_labels: labels, rules: role.allow.rules.map(_ruleOut) },
    deny: { logins: [...role.deny.logins], rules: role.deny.rules.map(_ruleOut) },
  };
}

function _options(r: TableReader | undefined): RoleOptions {
  if (!r) return {};
  const out: RoleOptions = {};
  const maxConnections = r.positiveInt("max_connections");
  const maxSessions = r.positiveInt("max_sessions");
  const maxSessionTtl = r.duration("max_session_ttl");
  const lock = r.oneOf("lock", LOCKING_MODES);
  const record = r.table("record_session", ["ssh"]);
  if (maxConnections !== undefined) out.maxConnections = maxConnections;
  if (maxSessions !== undefined) out.maxSessions = maxSessions;
  if (maxSessionTtl !== undefined) out.maxSessionTtl = maxSessionTtl;
  if (lock !== undefined) out.lock = lock;
  if (record) {
    const ssh = record.bool("ssh");
    out.recordSession = ssh === undefined ? {} : { ssh };
  }
  const forwarding = r.table("port_forwarding", ["local", "remote", "gateway_ports"]);
  if (forwarding) out.portForwarding = _portForwarding(forwarding);
  const agent = r.bool("forward_agent");
  if (agent !== undefined) out.forwardAgent = agent;
  return out;
}

function _portForwarding(r: TableReader): NonNullable<RoleOptions["portForwarding"]> {
  const out: NonNullable<RoleOptions["portForwarding"]> = {};
  const [local, remote, gatewayPorts] = [r.bool("local"), r.bool("remote"), r.bool("gateway_ports")];
  if (local !== undefined) out.local = local;
  if (remote !== undefined) out.remote = remote;
  if (gatewayPorts !== undefined) out.gatewayPorts = gatewayPorts;
  return out;
}

function _portForwardingOut(p: NonNullable<RoleOptions["portForwarding"]>): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  if (p.local !== undefined) out.local = p.local;
  if (p.remote !== undefined) out.remote = p.remote;
  if (p.gatewayPorts !== undefined) out.gateway_ports = p.gatewayPorts;
  return out;
}

function _nodeLabels(labels: TableReader | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!labels) return out;
  const r: TableReader = labels;
  for (const k of r.keys()) {
    if (k === "" || /\s/.test(k)) r.fail(JSON.stringify(k), "label names must be non-empty without whitespace");
    const v = r.raw(k);
    const values = typeof v === "string" ? [v] : Array.isArray(v) ? r.stringList(k) : undefined;
    if (!values) r.fail(k, `expected a string or an array of strings, got ${describe(v)}`);
    if (values.length === 0) r.fail(k, 'must not be empty (use "*" for any value)');
    out[k] = values;
  }
  return out;
}

function _rules(r: TableReader | undefined): Rule[] {
  const rules = r?.tableList("rules", ["resources", "verbs"]) ?? [];
  return rules.map((rule) => {
    const resources = rule.stringList("resources", (s) => _unknown(s, API_RESOURCES, "resource"));
    const verbs = rule.stringList("verbs", (s) => _unknown(s, VERBS, "verb"));
    if (!resources || resources.length === 0) rule.fail("resources", "must list at least one resource");
    if (!verbs || verbs.length === 0) rule.fail("verbs", "must list at least one verb");
    return { resources, verbs } as Rule;
  });
}

function _ruleOut(rule: Rule): Record<string, unknown> {
  return { resources: [...rule.resources], verbs: [...rule.verbs] };
}

function _unknown(s: string, known: readonly string[], what: string): string | undefined {
  return known.includes(s) ? undefined : `unknown ${what} ${describe(s)} (expected one of ${known.join(", ")})`;
}

function _badLogin(s: string): string | undefined {
  return s !== "" && !/\s/.test(s) ? undefined : `must be a non-empty string without whitespace, got ${describe(s)}`;
}
