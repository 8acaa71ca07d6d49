// People on the API with their own SSH certificate: the seed 003 walk-through
// (no lock rights → exact error; an admin adds a locksmith role → the same
// certificate can lock), auditors, SSH-only users, locks and deny rules on the API.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestCluster, type SshUser } from "../helpers/cluster.ts";
import { CLI, run, waitFor } from "../helpers/process.ts";

let c: TestCluster;
let pin: string;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  pin = JSON.parse(await c.ctlOk("status", "--format", "json")).ca_pin;
  await c.createRole("ssh", `[allow]\nlogins = ["root"]`);
}, 30_000);

afterAll(() => c.close());

/** Logs a person in with `hostward login` under their own HOME; returns their ctl. */
async function asPerson(user: SshUser) {
  const home = join(c.dir, `home-${user.name}`);
  mkdirSync(home, { recursive: true });
  const env = { HOME: home, HOSTWARD_IDENTITY: "" };
  const login = await run([...CLI, "login", "--auth", c.authAddr, "--ca-pin", pin, "-i", user.key], { env, cwd: home });
  expect(login.stderr).toBe("");
  expect(login.stdout).toContain(`as ${user.name}`);
  return (...args: string[]) => run([...CLI, "ctl", ...args], { env, cwd: home });
}

test("seed 003: no lock rights → the exact error; with a locksmith role the same certificate locks", async () => {
  const bob = await c.addUser("bob", ["ssh", "access"]);
  const ctl = await asPerson(bob);
  const denied = await ctl("lock", "--user", "mallory");
  expect(denied.code).toBe(1);
  expect(denied.stderr.trim()).toBe('hostward: access denied to perform action "create" on "lock"');
  const role = join(c.dir, "locksmith.toml");
  writeFileSync(role, `kind = "role"\nname = "locksmith"\n[[allow.rules]]\nresources = ["lock"]\nverbs = ["list", "create", "read", "update", "delete"]\n`);
  await c.ctlOk("create", "-f", role);
  await c.ctlOk("users", "add", "bob", "--roles", "ssh,access,locksmith");
  const ok = await ctl("lock", "--user", "mallory");
  expect(ok.stdout).toMatch(/^Created a lock with name "[0-9a-f-]{36}"\.$/m);
  const status = await ctl("status");
  expect(status.stdout).toMatch(/You: +bob \(roles: ssh, access, locksmith\)/);
  const events = JSON.parse(await c.ctlOk("events", "ls", "--type", "api.denied", "--format", "json"));
  expect(events.some((e: { user: string; resource: string }) => e.user === "bob" && e.resource === "lock")).toBe(true);
});

test("an auditor reads events but cannot create a lock or a token; an SSH-only user gets nothing", async () => {
  const ann = await c.addUser("ann", ["auditor"]);
  const ctl = await asPerson(ann);
  const events = await ctl("events", "ls", "--format", "json");
  expect(events.stderr).toBe("");
  expect(events.code).toBe(0);
  expect((await ctl("lock", "--user", "x")).stderr).toContain('access denied to perform action "create" on "lock"');
  expect((await ctl("tokens", "add")).stderr).toContain('access denied to perform action "create" on "token"');
  const sam = await c.addUser("sam", ["ssh"]);
  const samCtl = await asPerson(sam);
  for (const args of [["nodes", "ls"], ["get", "roles"], ["events", "ls"], ["users", "ls"]]) {
    const r = await samCtl(...args);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("access denied");
  }
});

test("an auditor lists sessions and plays a recording, and the viewing is audited", async () => {
  const agent = await c.addAgent();
  await c.writeKnownHosts();
  const gus = await c.addUser("gus", ["ssh"]);
  const r = await c.ssh(agent, gus, "root", ["echo evidence-$((3*4))"]);
  expect(r.stdout).toBe("evidence-12\n");
  const ann = await c.addUser("ann", ["auditor"]);
  const ctl = await asPerson(ann);
  let sid = "";
  await waitFor(async () => {
    const rows = JSON.parse((await ctl("sessions", "ls", "--user", "gus", "--format", "json")).stdout || "[]");
    sid = rows[0]?.id ?? rows[0]?.session_id ?? "";
    return rows[0]?.recording === "complete";
  }, 20_000, "gus's session recorded");
  const home = join(c.dir, "home-ann");
  const play = await run([...CLI, "play", sid, "--format", "text"], { env: { HOME: home, HOSTWARD_IDENTITY: "" }, cwd: home });
  expect(play.stdout).toContain("evidence-12");
  const events = JSON.parse(await c.ctlOk("events", "ls", "--type", "session.recording.access", "--format", "json"));
  expect(events.some((e: { user: string; sid: string }) => e.user === "ann" && e.sid === sid)).toBe(true);
  await asPerson(await c.addUser("sam2", ["ssh"]));
  const denied = await run([...CLI, "play", sid, "--format", "text"], { env: { HOME: join(c.dir, "home-sam2"), HOSTWARD_IDENTITY: "" } });
  expect(denied.code).toBe(1);
  expect(denied.stderr).toContain('access denied to perform action "read" on "recording"');
});

test("a deny rule beats an allow rule", async () => {
  await c.createRole("no-tokens", `[[deny.rules]]\nresources = ["token"]\nverbs = ["create"]`);
  const dee = await c.addUser("dee", ["admin", "no-tokens"]);
  const ctl = await asPerson(dee);
  expect((await ctl("tokens", "add")).stderr).toContain('access denied to perform action "create" on "token"');
  expect((await ctl("nodes", "ls")).code).toBe(0);
});

test("a locked person is refused by the API too", async () => {
  const eve = await c.addUser("eve", ["admin"]);
  const ctl = await asPerson(eve);
  expect((await ctl("nodes", "ls")).code).toBe(0);
  const name = (await c.ctlOk("lock", "--user", "eve", "--message", "Gone.")).match(/"(.+)"/)![1]!;
  const r = await ctl("nodes", "ls");
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('lock targeting User:"eve" is in force: Gone.');
  await c.ctlOk("unlock", name);
  expect((await ctl("nodes", "ls")).code).toBe(0);
});

test("an expired certificate: ctl says so and how to get a new one", async () => {
  const fay = await c.addUser("fay", ["admin"]);
  const ctl = await asPerson(fay);
  await run(["ssh-keygen", "-q", "-s", join(c.dir, "auth", "ssh", "user_ca"), "-I", "fay", "-V", "20200101:20200102", `${fay.key}.pub`]);
  const r = await ctl("status");
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/certificate .* expired at 2020-01-02.*hostward ctl users sign/);
});

test("the last role that can update roles cannot be taken away", async () => {
  // Every administrator (admin, dee, eve, fay) holds the admin role: stripping its
  // rules or deleting it would leave nobody able to repair roles.
  const f = join(c.dir, "admin-stripped.toml");
  writeFileSync(f, `kind = "role"\nname = "admin"\n`);
  const strip = await c.ctl("create", "-f", f);
  expect(strip.code).toBe(1);
  expect(strip.stderr).toContain("no user could update roles");
  const del = await c.ctl("rm", "role/admin");
  expect(del.stderr).toContain("no user could update roles");
  expect(JSON.parse(await c.ctlOk("get", "role", "admin", "--format", "json")).allow.rules).toHaveLength(1);
});

test("a rule with an unknown resource or verb is refused with file, key and reason", async () => {
  const f = join(c.dir, "bad-rule.toml");
  writeFileSync(f, `kind = "role"\nname = "bad"\n[[allow.rules]]\nresources = ["lock", "spaceship"]\nverbs = ["list"]\n`);
  const r = await c.ctl("create", "-f", f);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`${f}: allow.rules[0].resources[1]: unknown resource "spaceship"`);
});
