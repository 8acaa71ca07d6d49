// The escalation rule: nobody grants an API permission they do not hold. user:update
// alone does not make an admin, role:update alone does not widen one's own role.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestCluster, type SshUser } from "../helpers/cluster.ts";
import { CLI, run } from "../helpers/process.ts";

let c: TestCluster;
let pin: string;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  pin = JSON.parse(await c.ctlOk("status", "--format", "json")).ca_pin;
  await c.createRole("user-editor", `[[allow.rules]]\nresources = ["user"]\nverbs = ["list", "read", "create", "update"]`);
  await c.createRole("role-editor", `[[allow.rules]]\nresources = ["role"]\nverbs = ["list", "read", "create", "update", "delete"]`);
  await c.createRole("token-maker", `[[allow.rules]]\nresources = ["token"]\nverbs = ["list", "create"]`);
  await c.createRole("no-tokens", `[[deny.rules]]\nresources = ["token"]\nverbs = ["list", "create"]`);
}, 30_000);

afterAll(() => c.close());

async function asPerson(user: SshUser) {
  const home = join(c.dir, `home-${user.name}`);
  mkdirSync(home, { recursive: true });
  const env = { HOME: home, HOSTWARD_IDENTITY: "" };
  const login = await run([...CLI, "login", "--auth", c.authAddr, "--ca-pin", pin, "-i", user.key], { env, cwd: home });
  expect(login.stdout).toContain(`as ${user.name}`);
  return (...args: string[]) => run([...CLI, "ctl", ...args], { env, cwd: home });
}

async function deniedEvents(user: string): Promise<{ reason?: string; resource: string; verb: string; message?: string }[]> {
  return JSON.parse(await c.ctlOk("events", "ls", "--type", "api.denied", "--user", user, "--format", "json"));
}

function roleFile(name: string, body: string): string {
  const f = join(c.dir, `${name}-${Math.random().toString(36).slice(2)}.toml`);
  writeFileSync(f, `kind = "role"\nname = "${name}"\n${body}\n`);
  return f;
}

test("user:update alone cannot give oneself admin, nor sign a certificate for admin", async () => {
  const eve = await c.addUser("eve", ["user-editor"]);
  const ctl = await asPerson(eve);
  const r = await ctl("users", "add", "eve", "--roles", "user-editor,admin");
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('refused: you cannot give role "admin": it allows "list" on "lock"');
  expect(r.stderr).toContain("(nobody grants a permission they do not hold)");
  const users = JSON.parse(await c.ctlOk("users", "ls", "--format", "json")) as { name: string; roles: string[] }[];
  expect(users.find((u) => u.name === "eve")!.roles).toEqual(["user-editor"]);
  const sign = await ctl("users", "sign", "admin", "--pubkey", `${eve.key}.pub`, "--ttl", "1h", "--out", join(c.dir, "stolen-cert.pub"));
  expect(sign.code).toBe(1);
  expect(sign.stderr).toContain('refused: a certificate for user "admin" would give its holder');
  const events = await deniedEvents("eve");
  expect(events.filter((e) => e.reason === "escalation").map((e) => `${e.verb} ${e.resource}`).sort()).toEqual(["update user", "update user"]);
  // Within her rules she may still work: give another user a role with no API rules.
  expect((await ctl("users", "add", "frank", "--roles", "access")).code).toBe(0);
});

test("role:update alone cannot widen one's own role or create a wider one; narrowing is fine", async () => {
  const rob = await c.addUser("rob", ["role-editor"]);
  const ctl = await asPerson(rob);
  const widen = await ctl("create", "-f", roleFile("role-editor", `[[allow.rules]]\nresources = ["role", "user", "lock"]\nverbs = ["list", "read", "create", "update", "delete"]`));
  expect(widen.code).toBe(1);
  expect(widen.stderr).toContain('refused: role "role-editor" would allow "list" on "lock"');
  const wide = await ctl("create", "-f", roleFile("everything", `[[allow.rules]]\nresources = ["token"]\nverbs = ["create"]`));
  expect(wide.code).toBe(1);
  expect(wide.stderr).toContain('would allow "create" on "token", which you do not hold');
  const roles = JSON.parse(await c.ctlOk("get", "roles", "--format", "json")) as { name: string; allow?: { rules?: { resources: string[] }[] } }[];
  expect(roles.find((r) => r.name === "role-editor")!.allow!.rules![0]!.resources).toEqual(["role"]);
  expect(roles.some((r) => r.name === "everything")).toBe(false);
  expect((await ctl("create", "-f", roleFile("role-reader", `[[allow.rules]]\nresources = ["role"]\nverbs = ["list", "read"]`))).code).toBe(0);
  expect((await deniedEvents("rob")).filter((e) => e.reason === "escalation").length).toBe(2);
});

test("deleting a role that denies is an escalation when it would lift the denial for someone", async () => {
  const dan = await c.addUser("dan", ["role-editor", "token-maker", "no-tokens"]);
  const ctl = await asPerson(dan);
  const r = await ctl("rm", "role/no-tokens");
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('refused: this change would give user "dan" "list" on "token", "create" on "token", which you do not hold');
  expect((await c.ctl("get", "role", "no-tokens")).code).toBe(0);
  // An admin holds everything and may.
  expect((await c.ctl("rm", "role/no-tokens")).code).toBe(0);
});
