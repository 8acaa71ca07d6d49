import { describe, expect, test } from "bun:test";
import {
  accessDeniedMessage, allowedLogins, checkLogin, lockingModeFor, ruleAllows, sessionLimits, shouldRecord,
} from "../../src/core/access-policy.ts";
import { builtinRoles } from "../../src/core/builtin-roles.ts";
import { ms } from "../../src/core/duration.ts";
import {
  API_RESOURCES, DEFAULT_CLUSTER_CONFIG, VERBS, type ClusterConfig, type Role, type RoleOptions, type Rule,
} from "../../src/core/resource-types.ts";

interface RoleSpec {
  options?: RoleOptions;
  logins?: string[];
  labels?: Record<string, string[]>;
  rules?: Rule[];
  denyLogins?: string[];
  denyRules?: Rule[];
}
const role = (name: string, s: RoleSpec = {}): Role => ({
  kind: "role",
  name,
  options: s.options ?? {},
  allow: { logins: s.logins ?? [], nodeLabels: s.labels ?? {}, rules: s.rules ?? [] },
  deny: { logins: s.denyLogins ?? [], rules: s.denyRules ?? [] },
});
const cluster = (c: Partial<ClusterConfig> = {}): ClusterConfig => ({ ...DEFAULT_CLUSTER_CONFIG, ...c });

describe("checkLogin", () => {
  const prod = { env: "prod", region: "eu" };
  const cases: [string, Role[], string, Record<string, string>, string | undefined][] = [
    ["allowed login, no node_labels = every node", [role("a", { logins: ["ubuntu"] })], "ubuntu", prod, undefined],
    ["login not allowed", [role("a", { logins: ["ubuntu"] })], "root", prod, 'login "root" is not allowed by any role'],
    ["no roles", [], "root", prod, 'login "root" is not allowed by any role'],
    ["no wildcard login", [role("a", { logins: ["*"] })], "root", prod, 'login "root" is not allowed by any role'],
    ["denied wins over allowed", [role("a", { logins: ["root"] }), role("b", { denyLogins: ["root"] })], "root", prod, 'login "root" is denied by role "b"'],
    ["deny in the same role", [role("a", { logins: ["root"], denyLogins: ["root"] })], "root", prod, 'login "root" is denied by role "a"'],
    ["exact label value", [role("a", { logins: ["root"], labels: { env: ["prod"] } })], "root", prod, undefined],
    ["one of several values", [role("a", { logins: ["root"], labels: { env: ["dev", "prod"] } })], "root", prod, undefined],
    ["wrong label value", [role("a", { logins: ["root"], labels: { env: ["dev"] } })], "root", prod, "no role allows access to this node"],
    ["wildcard needs the key", [role("a", { logins: ["root"], labels: { team: ["*"] } })], "root", prod, "no role allows access to this node"],
    ["wildcard with the key", [role("a", { logins: ["root"], labels: { env: ["*"] } })], "root", prod, undefined],
    ["every key must match", [role("a", { logins: ["root"], labels: { env: ["prod"], region: ["us"] } })], "root", prod, "no role allows access to this node"],
    ["'*' = '*' selects every node", [role("a", { logins: ["root"], labels: { "*": ["*"] } })], "root", {}, undefined],
    ["node without labels", [role("a", { logins: ["root"], labels: { env: ["prod"] } })], "root", {}, "no role allows access to this node"],
    ["labels of a role that does not allow the login do not count",
      [role("a", { logins: ["root"], labels: { env: ["dev"] } }), role("b", { logins: ["ubuntu"] })], "root", prod, "no role allows access to this node"],
    ["a second role allows the node",
      [role("a", { logins: ["root"], labels: { env: ["dev"] } }), role("b", { logins: ["root"], labels: { region: ["eu"] } })], "root", prod, undefined],
    ["inherited property names are not labels", [role("a", { logins: ["root"], labels: { toString: ["*"] } })], "root", {}, "no role allows access to this node"],
  ];
  for (const [name, roles, login, labels, reason] of cases) test(name, () => {
    expect(checkLogin(roles, login, labels)).toEqual(reason === undefined ? { ok: true } : { ok: false, reason });
  });
});

test.each([
  [[role("a", { logins: ["ubuntu", "root"] }), role("b", { logins: ["root", "admin"] })], ["admin", "root", "ubuntu"]],
  [[role("a", { logins: ["ubuntu", "root"] }), role("b", { denyLogins: ["root"] })], ["ubuntu"]],
  [[], []],
  [builtinRoles(), []],
] as [Role[], string[]][])("allowedLogins %#", (roles, want) => {
  expect(allowedLogins(roles)).toEqual(want);
});

test.each([
  [[], {}],
  [[role("a")], {}],
  [[role("a", { options: { maxConnections: 5, maxSessionTtl: ms(3_600_000) } }), role("b", { options: { maxConnections: 2, maxSessions: 10 } }), role("c", { options: { maxSessionTtl: ms(60_000) } })],
    { maxConnections: 2, maxSessions: 10, maxSessionTtl: ms(60_000) }],
] as [Role[], object][])("sessionLimits %#", (roles, want) => {
  expect(sessionLimits(roles)).toEqual(want);
});

describe("lockingModeFor", () => {
  const cases: [string, Role[], ClusterConfig, string][] = [
    ["cluster default", [role("a")], cluster(), "best_effort"],
    ["cluster strict", [role("a")], cluster({ lockingMode: "strict" }), "strict"],
    ["no roles", [], cluster({ lockingMode: "strict" }), "strict"],
    ["any strict role wins", [role("a", { options: { lock: "best_effort" } }), role("b", { options: { lock: "strict" } })], cluster(), "strict"],
    ["role best_effort overrides cluster strict", [role("a", { options: { lock: "best_effort" } }), role("b")], cluster({ lockingMode: "strict" }), "best_effort"],
  ];
  for (const [name, roles, c, want] of cases) test(name, () => {
    expect(lockingModeFor(roles, c)).toBe(want as "strict" | "best_effort");
  });
});

describe("shouldRecord", () => {
  const noRec = role("n", { options: { recordSession: { ssh: false } } });
  const rec = role("r", { options: { recordSession: { ssh: true } } });
  const cases: [string, Role[], ClusterConfig, boolean][] = [
    ["cluster off", [rec], cluster({ sessionRecording: "off" }), false],
    ["no roles", [], cluster(), true],
    ["role without a setting", [role("a")], cluster(), true],
    ["every role opts out", [noRec, noRec], cluster(), false],
    ["one role that records wins", [noRec, rec], cluster({ sessionRecording: "node-sync" }), true],
    ["a role with record_session = {} records", [noRec, role("e", { options: { recordSession: {} } })], cluster(), true],
  ];
  for (const [name, roles, c, want] of cases) test(name, () => {
    expect(shouldRecord(roles, c)).toBe(want);
  });
});

describe("ruleAllows", () => {
  const [admin, auditor, access] = builtinRoles() as [Role, Role, Role];
  const lockWriter = role("w", { rules: [{ resources: ["lock"], verbs: ["create", "delete"] }] });
  const noDelete = role("nd", { denyRules: [{ resources: ["lock", "role"], verbs: ["delete"] }] });
  const cases: [string, Role[], (typeof API_RESOURCES)[number], (typeof VERBS)[number], boolean][] = [
    ["admin creates locks", [admin], "lock", "create", true],
    ["admin updates cluster_config", [admin], "cluster_config", "update", true],
    ["auditor lists sessions", [auditor], "session", "list", true],
    ["auditor reads recordings", [auditor], "recording", "read", true],
    ["auditor cannot create locks", [auditor], "lock", "create", false],
    ["auditor cannot delete events", [auditor], "event", "delete", false],
    ["access has no API rules", [access], "session", "list", false],
    ["no roles", [], "lock", "read", false],
    ["verb not in rule", [lockWriter], "lock", "read", false],
    ["resource not in rule", [lockWriter], "role", "create", false],
    ["deny wins over allow", [admin, noDelete], "lock", "delete", false],
    ["deny leaves other verbs", [admin, noDelete], "lock", "create", true],
  ];
  for (const [name, roles, resource, verb, want] of cases) test(name, () => {
    expect(ruleAllows(roles, resource, verb)).toBe(want);
  });
  test("admin can do everything", () => {
    for (const r of API_RESOURCES) for (const v of VERBS) expect(ruleAllows([admin], r, v)).toBe(true);
  });
});

test("accessDeniedMessage", () => {
  expect(accessDeniedMessage("lock", "create")).toBe('access denied to perform action "create" on "lock"');
});

test("builtinRoles returns fresh objects", () => {
  const a = builtinRoles();
  a[0]!.allow.rules[0]!.verbs.pop();
  expect(builtinRoles()[0]!.allow.rules[0]!.verbs).toEqual([...VERBS]);
  expect(a.map((r) => r.name)).toEqual(["admin", "auditor", "access"]);
});
