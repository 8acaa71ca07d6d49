import { describe, expect, test } from "bun:test";
import { builtinRoles } from "../../src/core/builtin-roles.ts";
import { ms } from "../../src/core/duration.ts";
import { parseResource, parseResourceText, resourceToToml, toExternal } from "../../src/core/resources.ts";
import { DEFAULT_CLUSTER_CONFIG, isValidName, type Resource, type ResourceParseOptions } from "../../src/core/resource-types.ts";
import { ValidationError } from "../../src/core/validation-error.ts";

const now = new Date("2026-01-01T00:00:00Z");
const LOCK_ID = "dc7cee9d-fe5e-4534-a90d-db770f0234a1";
const opts: ResourceParseOptions = { now, newName: () => LOCK_ID };

const ROLE_TOML = `
kind = "role"
name = "limited-ssh"
[options]
max_connections = 2
max_sessions = 10
max_session_ttl = "8h"
lock = "strict"
record_session = { ssh = true }
[allow]
logins = ["ubuntu", "root"]
node_labels = { env = "*", region = ["eu", "us"] }
[deny]
logins = []
[[allow.rules]]
resources = ["lock"]
verbs = ["list", "create", "read", "update", "delete"]
[[deny.rules]]
resources = ["token"]
verbs = ["create"]
`;

const ROLE: Resource = {
  kind: "role",
  name: "limited-ssh",
  options: { maxConnections: 2, maxSessions: 10, maxSessionTtl: ms(8 * 3_600_000), lock: "strict", recordSession: { ssh: true } },
  allow: {
    logins: ["ubuntu", "root"],
    nodeLabels: { env: ["*"], region: ["eu", "us"] },
    rules: [{ resources: ["lock"], verbs: ["list", "create", "read", "update", "delete"] }],
  },
  deny: { logins: [], rules: [{ resources: ["token"], verbs: ["create"] }] },
};

const good: [string, string, Resource][] = [
  ["role with every field", ROLE_TOML, ROLE],
  ["minimal role", 'kind = "role"\nname = "r"', {
    kind: "role", name: "r", options: {}, allow: { logins: [], nodeLabels: {}, rules: [] }, deny: { logins: [], rules: [] },
  }],
  ["user", 'kind = "user"\nname = "alice@example.com"\nroles = ["limited-ssh"]', { kind: "user", name: "alice@example.com", roles: ["limited-ssh"] }],
  ["lock with all fields",
    `kind = "lock"\nname = "${LOCK_ID}"\nmessage = "Suspicious activity."\nexpires = "2026-12-01T22:27:00Z"\n[target]\nuser = "alice"\nserver_id = "s1"`,
    { kind: "lock", name: LOCK_ID, message: "Suspicious activity.", expires: new Date("2026-12-01T22:27:00Z"), target: { user: "alice", serverId: "s1" } }],
  ["lock with generated name and TOML date", 'kind = "lock"\nexpires = 2026-12-01T23:27:00+01:00\ntarget = { role = "dev" }',
    { kind: "lock", name: LOCK_ID, expires: new Date("2026-12-01T22:27:00Z"), target: { role: "dev" } }],
  ["cluster_config defaults", 'kind = "cluster_config"', DEFAULT_CLUSTER_CONFIG],
  ["cluster_config", 'kind = "cluster_config"\nsession_recording = "node-sync"\nlocking_mode = "strict"\nsession_control_timeout = "30s"\nlock_max_staleness = "1h"',
    { kind: "cluster_config", name: "cluster_config", sessionRecording: "node-sync", lockingMode: "strict", sessionControlTimeout: ms(30_000), lockMaxStaleness: ms(3_600_000) }],
];

describe("parseResourceText accepts", () => {
  test.each(good)("%s", (_, text, want) => {
    expect(parseResourceText(text, "x.toml", opts)).toEqual([want]);
  });
});

describe("round trip toExternal → parseResource and resourceToToml → parseResourceText", () => {
  test.each(good)("%s", (_, _text, r) => {
    expect(parseResource(toExternal(r), "x.json", opts)).toEqual(r);
    expect(parseResource(JSON.parse(JSON.stringify(toExternal(r))), "x.json", opts)).toEqual(r);
    expect(parseResourceText(resourceToToml(r), "x.toml", opts)).toEqual([r]);
  });
  test("built-in roles", () => {
    for (const r of builtinRoles()) expect(parseResource(toExternal(r), "x.json", opts)).toEqual(r);
  });
  test("lock with created_by/created_at", () => {
    const lock: Resource = { kind: "lock", name: LOCK_ID, target: { login: "root" }, createdBy: "bob", createdAt: new Date("2025-01-01T00:00:00.250Z") };
    expect(toExternal(lock)).toEqual({ kind: "lock", name: LOCK_ID, created_by: "bob", created_at: "2025-01-01T00:00:00.250Z", target: { login: "root" } });
    expect(parseResource(toExternal(lock), "x.json", opts)).toEqual(lock);
  });
  test("user with created_at", () => {
    const user: Resource = { kind: "user", name: "bob", roles: ["a", "b"], createdAt: new Date("2025-01-01T00:00:00Z") };
    expect(toExternal(user)).toEqual({ kind: "user", name: "bob", roles: ["a", "b"], created_at: "2025-01-01T00:00:00Z" });
    expect(parseResource(toExternal(user), "x.json", opts)).toEqual(user);
  });
});

const LOCK_HEAD = `kind = "lock"\nname = "${LOCK_ID}"\n`;
const bad: [string, string, string][] = [
  ["role.toml", 'kind = "role"\nname = "r"\n[options]\nmax_sessions = -1', "role.toml: options.max_sessions: must be a positive integer, got -1"],
  ["role.toml", 'kind = "role"\nname = "r"\n[options]\nmax_connections = 1.5', "role.toml: options.max_connections: must be a positive integer, got 1.5"],
  ["role.toml", 'kind = "role"\nname = "r"\n[options]\nmax_connections = "2"', 'role.toml: options.max_connections: must be a positive integer, got "2"'],
  ["role.toml", 'kind = "role"\nname = "r"\n[options]\nmax_session_ttl = "8x"', 'role.toml: options.max_session_ttl: bad duration "8x": unknown unit "x" (use ms, s, m or h)'],
  ["role.toml", 'kind = "role"\nname = "r"\n[options]\nmax_session_ttl = "1d"', 'role.toml: options.max_session_ttl: bad duration "1d": unknown unit "d" (use ms, s, m or h)'],
  ["role.toml", 'kind = "role"\nname = "r"\n[options]\nmax_session_ttl = 8', 'role.toml: options.max_session_ttl: expected a duration like "8h", got 8'],
  ["role.toml", 'kind = "role"\nname = "r"\n[options]\nmax_session_ttl = "0s"', 'role.toml: options.max_session_ttl: must be greater than zero, got "0s"'],
  ["role.toml", 'kind = "role"\nname = "r"\n[options]\nlock = "hard"', 'role.toml: options.lock: must be one of "strict", "best_effort", got "hard"'],
  ["role.toml", 'kind = "role"\nname = "r"\n[options]\nrecord_session = { ssh = "yes" }', 'role.toml: options.record_session.ssh: expected true or false, got "yes"'],
  ["role.toml", 'kind = "role"\nname = "r"\n[options]\nmax_ttl = "8h"', "role.toml: options.max_ttl: unknown key"],
  ["role.toml", 'kind = "role"\nname = "r"\ncolour = "red"', "role.toml: colour: unknown key"],
  ["role.toml", 'kind = "role"\nname = "r"\noptions = 3', "role.toml: options: expected a table, got 3"],
  ["role.toml", 'kind = "role"\nname = "r"\n[allow]\nlogins = "root"', 'role.toml: allow.logins: expected an array of strings, got "root"'],
  ["role.toml", 'kind = "role"\nname = "r"\n[allow]\nlogins = ["root", 3]', "role.toml: allow.logins[1]: expected a string, got 3"],
  ["role.toml", 'kind = "role"\nname = "r"\n[allow]\nlogins = ["ro ot"]', 'role.toml: allow.logins[0]: must be a non-empty string without whitespace, got "ro ot"'],
  ["role.toml", 'kind = "role"\nname = "r"\n[deny]\nlogins = [""]', 'role.toml: deny.logins[0]: must be a non-empty string without whitespace, got ""'],
  ["role.toml", 'kind = "role"\nname = "r"\n[allow]\nnode_labels = { env = 3 }', "role.toml: allow.node_labels.env: expected a string or an array of strings, got 3"],
  ["role.toml", 'kind = "role"\nname = "r"\n[allow]\nnode_labels = { env = [] }', 'role.toml: allow.node_labels.env: must not be empty (use "*" for any value)'],
  ["role.toml", 'kind = "role"\nname = "r"\n[allow]\nnode_labels = { env = ["a", 1] }', "role.toml: allow.node_labels.env[1]: expected a string, got 1"],
  ["role.toml", 'kind = "role"\nname = "r"\n[deny]\nnode_labels = { env = "*" }', "role.toml: deny.node_labels: unknown key"],
  ["role.toml", 'kind = "role"\nname = "r"\n[[allow.rules]]\nresources = ["x"]\nverbs = ["read"]',
    'role.toml: allow.rules[0].resources[0]: unknown resource "x" (expected one of lock, role, user, token, node, session, recording, event, cluster_config, semaphore)'],
  ["role.toml", 'kind = "role"\nname = "r"\n[[allow.rules]]\nresources = ["lock"]\nverbs = ["read", "frob"]',
    'role.toml: allow.rules[0].verbs[1]: unknown verb "frob" (expected one of list, read, create, update, delete)'],
  ["role.toml", 'kind = "role"\nname = "r"\n[[allow.rules]]\nresources = []\nverbs = ["read"]', "role.toml: allow.rules[0].resources: must list at least one resource"],
  ["role.toml", 'kind = "role"\nname = "r"\n[[deny.rules]]\nresources = ["lock"]', "role.toml: deny.rules[0].verbs: must list at least one verb"],
  ["role.toml", 'kind = "role"\nname = "r"\n[[allow.rules]]\nresources = ["lock"]\nverbs = ["read"]\nwhere = "x"', "role.toml: allow.rules[0].where: unknown key"],
  ["role.toml", 'kind = "role"', "role.toml: name: required"],
  ["role.toml", 'kind = "role"\nname = 3', "role.toml: name: expected a string, got 3"],
  ["role.toml", 'kind = "role"\nname = "-r"', 'role.toml: name: must start with a letter or digit and hold only letters, digits, ".", "_", "@" or "-" (at most 128), got "-r"'],
  ["x.toml", 'name = "r"', "x.toml: kind: required"],
  ["x.toml", 'kind = 3', "x.toml: kind: expected a string, got 3"],
  ["x.toml", 'kind = "robot"', 'x.toml: kind: unknown kind "robot" (expected one of role, user, lock, cluster_config)'],
  ["user.toml", 'kind = "user"\nname = "alice"\nroles = []', "user.toml: roles: a user needs at least one role"],
  ["user.toml", 'kind = "user"\nname = "alice"', "user.toml: roles: a user needs at least one role"],
  ["user.toml", 'kind = "user"\nname = "alice"\nroles = ["a b"]', 'user.toml: roles[0]: must start with a letter or digit and hold only letters, digits, ".", "_", "@" or "-" (at most 128), got "a b"'],
  ["lock.toml", LOCK_HEAD + 'expires = "2025-12-31T23:59:59Z"\n[target]\nuser = "alice"', "lock.toml: expires: expires is in the past"],
  ["lock.toml", LOCK_HEAD + 'expires = "2026-01-01T00:00:00Z"\n[target]\nuser = "alice"', "lock.toml: expires: expires is in the past"],
  ["lock.toml", LOCK_HEAD + 'expires = "tomorrow"\n[target]\nuser = "alice"', 'lock.toml: expires: expected an RFC 3339 date like "2026-12-01T22:27:00Z", got "tomorrow"'],
  ["lock.toml", LOCK_HEAD + 'expires = "2026-02-30T00:00:00Z"\n[target]\nuser = "alice"', 'lock.toml: expires: expected an RFC 3339 date like "2026-12-01T22:27:00Z", got "2026-02-30T00:00:00Z"'],
  ["lock.toml", LOCK_HEAD + 'expires = "2026-12-01T22:27:00"\n[target]\nuser = "alice"', 'lock.toml: expires: expected an RFC 3339 date like "2026-12-01T22:27:00Z", got "2026-12-01T22:27:00"'],
  ["lock.toml", LOCK_HEAD + "expires = 2026-12-01T22:27:00\n[target]\nuser = \"alice\"", 'lock.toml: expires: expected an RFC 3339 date like "2026-12-01T22:27:00Z", got a date without a time zone'],
  ["lock.toml", LOCK_HEAD + "expires = 36000\n[target]\nuser = \"alice\"", 'lock.toml: expires: expected an RFC 3339 date like "2026-12-01T22:27:00Z", got 36000'],
  ["lock.toml", LOCK_HEAD, "lock.toml: target: lock needs at least one target"],
  ["lock.toml", LOCK_HEAD + "[target]", "lock.toml: target: lock needs at least one target"],
  ["lock.toml", LOCK_HEAD + '[target]\nusr = "alice"', "lock.toml: target.usr: unknown key"],
  ["lock.toml", LOCK_HEAD + "[target]\nuser = 3", "lock.toml: target.user: expected a string, got 3"],
  ["lock.toml", LOCK_HEAD + '[target]\nuser = ""', "lock.toml: target.user: must not be empty"],
  ["lock.toml", LOCK_HEAD + 'message = "a\\nb"\n[target]\nuser = "alice"', 'lock.toml: message: must be one line without control characters, got "a\\nb"'],
  ["lock.toml", 'kind = "lock"\nname = "lock-1"\n[target]\nuser = "alice"', 'lock.toml: name: must be a UUID, got "lock-1"'],
  ["cc.toml", 'kind = "cluster_config"\nsession_recording = "always"', 'cc.toml: session_recording: must be one of "off", "node", "node-sync", got "always"'],
  ["cc.toml", 'kind = "cluster_config"\nlock_max_staleness = "5"', 'cc.toml: lock_max_staleness: bad duration "5": missing unit after "5" (use ms, s, m or h)'],
  ["cc.toml", 'kind = "cluster_config"\nname = "main"', 'cc.toml: name: must be "cluster_config", got "main"'],
  ["x.toml", "", "x.toml: no resource in file"],
  ["x.toml", 'kind = "role"\nname = = "r"', "x.toml: line 2, column 8: bad TOML: Unexpected character, expecting string, number, datetime, boolean, inline array or inline table"],
  ["x.toml", '[[resource]]\nkind = "user"\nname = "a"\nroles = ["r"]\n[[resource]]\nkind = "role"\nname = "r"\n[resource.options]\nmax_sessions = 0',
    "x.toml: resource[1].options.max_sessions: must be a positive integer, got 0"],
  ["x.toml", 'kind = "user"\n[[resource]]\nkind = "user"', "x.toml: kind: cannot mix top-level keys with [[resource]] tables"],
  ["x.toml", "resource = 3", "x.toml: resource: expected [[resource]] tables, got 3"],
];

describe("parseResourceText refuses", () => {
  for (const [file, text, message] of bad) test(message, () => {
    let err: unknown;
    try {
      parseResourceText(text, file, opts);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toBe(message);
  });
});

describe("parseResource", () => {
  test("takes several resources from [[resource]] tables", () => {
    const text = '[[resource]]\nkind = "user"\nname = "a"\nroles = ["r"]\n[[resource]]\nkind = "cluster_config"';
    expect(parseResourceText(text, "x.toml", opts).map((r) => r.kind)).toEqual(["user", "cluster_config"]);
  });
  test("refuses a non-table with the file only", () => {
    expect(() => parseResource(3, "x.json", opts)).toThrow("x.json: expected a table, got 3");
  });
  test("treats JSON null as absent for optional keys", () => {
    const lock = parseResource({ kind: "lock", name: null, message: null, expires: null, target: { user: "a", role: null } }, "x.json", opts);
    expect(lock).toEqual({ kind: "lock", name: LOCK_ID, target: { user: "a" } });
  });
  test("names a generated lock with crypto.randomUUID when no newName is given", () => {
    const lock = parseResource({ kind: "lock", target: { user: "a" } }, "x.json", { now });
    expect(isValidName("lock", lock.name)).toBe(true);
  });
  test("accepts expired locks when asked to (reading stored locks back)", () => {
    const obj = { kind: "lock", name: LOCK_ID, expires: "2020-01-01T00:00:00Z", target: { user: "a" } };
    expect(() => parseResource(obj, "x.json", opts)).toThrow("expires is in the past");
    expect(parseResource(obj, "x.json", { ...opts, acceptExpired: true })).toMatchObject({ expires: new Date("2020-01-01T00:00:00Z") });
  });
  test("accepts RFC 3339 offsets and fractions", () => {
    const lock = parseResource({ kind: "lock", name: LOCK_ID, expires: "2026-12-01T23:27:00.5+01:00", target: { user: "a" } }, "x.json", opts);
    expect(lock).toMatchObject({ expires: new Date("2026-12-01T22:27:00.500Z") });
  });
});

test.each([
  ["role", "limited-ssh", true],
  ["user", "alice@example.com", true],
  ["user", "a".repeat(128), true],
  ["user", "a".repeat(129), false],
  ["user", ".hidden", false],
  ["user", "", false],
  ["role", "a/b", false],
  ["lock", LOCK_ID, true],
  ["lock", "not-a-uuid", false],
  ["cluster_config", "cluster_config", true],
  ["cluster_config", "other", false],
] as const)("isValidName(%p, %p) = %p", (kind, name, want) => {
  expect(isValidName(kind, name)).toBe(want);
});
