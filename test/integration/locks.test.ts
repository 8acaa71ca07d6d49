// Locks end to end: every target kind, live cuts with the message, expiry, removal,
// and unregistering a node by locking its server UUID.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { openLiveSession } from "../helpers/live-session.ts";
import { ensureTestAccount } from "../helpers/os-account.ts";
import { run, waitFor } from "../helpers/process.ts";

let c: TestCluster;
let a1: Agent;
let a2: Agent;
let alice: SshUser;
let bob: SshUser;

beforeAll(async () => {
  await ensureTestAccount();
  c = new TestCluster();
  await c.startAuth();
  [a1, a2] = [await c.addAgent(), await c.addAgent()];
  await c.createRole("dev", `[allow]\nlogins = ["root", "hwtest"]`);
  await c.createRole("ops", `[allow]\nlogins = ["root"]`);
  alice = await c.addUser("alice", ["dev"]);
  bob = await c.addUser("bob", ["ops"]);
  await c.writeKnownHosts();
}, 60_000);

afterAll(() => c.close());

async function lock(...args: string[]): Promise<string> {
  const out = await c.ctlOk("lock", ...args);
  const m = out.match(/^Created a lock with name "([0-9a-f-]{36})"\.$/m);
  expect(m).not.toBeNull();
  return m![1]!;
}

/** Waits until `ok` logs in and `refused` is refused; both via real ssh. */
async function expectAccess(agent: Agent, user: SshUser, login: string, allowed: boolean, message?: RegExp) {
  let last = { code: -1, stdout: "", stderr: "" };
  await waitFor(async () => {
    last = await c.ssh(agent, user, login, ["echo in"]);
    return allowed ? last.stdout === "in\n" : last.code === 255;
  }, 5_000, `${user.name}@${agent.name} as ${login} to be ${allowed ? "allowed" : "refused"}`);
  if (message) expect(last.stderr).toMatch(message);
}

describe("target kinds", () => {
  const cases: [string, () => string[], RegExp][] = [
    ["user", () => ["--user", "alice"], /lock targeting User:"alice" is in force/],
    ["role", () => ["--role", "dev"], /lock targeting Role:"dev" is in force/],
    ["login", () => ["--login", "hwtest"], /lock targeting Login:"hwtest" is in force/],
    ["server_id", () => ["--server-id", a1.serverId(), "--user", "alice"], /lock targeting User:"alice", ServerID:"[0-9a-f-]+" is in force/],
  ];
  for (const [kind, args, message] of cases) {
    test(`a ${kind} lock refuses the matching login and leaves others alone`, async () => {
      const name = await lock(...args(), "--message", "Testing.");
      const login = kind === "login" ? "hwtest" : "root";
      await expectAccess(a1, alice, login, false, new RegExp(message.source + ": Testing\\."));
      await expectAccess(a1, bob, "root", true);
      if (kind === "login") await expectAccess(a1, alice, "root", true);
      if (kind === "server_id") await expectAccess(a2, alice, "root", true);
      await c.ctlOk("rm", `lock/${name}`);
      await expectAccess(a1, alice, login, true);
    });
  }

  test("device, MFA device and access-request locks match what the certificate carries", async () => {
    const key = join(c.dir, "alice_key");
    const signed = await run(["ssh-keygen", "-q", "-s", join(c.dir, "auth", "ssh", "user_ca"), "-I", "alice", "-n", "root", "-V", "-5m:+1h",
      "-O", "extension:device-id@hostward=laptop-7", "-O", "extension:mfa-device@hostward=yubi-1",
      "-O", "extension:access-requests@hostward=req-1,req-2", "-O", "permit-pty", "-z", "7", `${key}.pub`]);
    expect(signed.code).toBe(0);
    const withDevice: SshUser = { name: "alice-device", key, cert: `${key}-cert.pub` };
    for (const args of [["--device", "laptop-7"], ["--mfa-device", "yubi-1"], ["--access-request", "req-2"]]) {
      const name = await lock(...args);
      await expectAccess(a1, withDevice, "root", false, /is in force/);
      await expectAccess(a1, bob, "root", true);
      await c.ctlOk("unlock", name);
      await expectAccess(a1, withDevice, "root", true);
    }
    const other = await lock("--device", "laptop-8");
    await expectAccess(a1, withDevice, "root", true);
    await c.ctlOk("unlock", other);
    await c.ctlOk("users", "sign", "alice", "--pubkey", `${key}.pub`, "--out", `${key}-cert.pub`);
  });

  test("a windows_desktop lock matches no SSH login", async () => {
    const name = await lock("--windows-desktop", "desk-1");
    await expectAccess(a1, alice, "root", true);
    await c.ctlOk("unlock", name);
  });
});

describe("live connections", () => {
  test("a new lock cuts a live interactive session at once and the client sees why", async () => {
    const session = await openLiveSession([...c.sshArgs(a1, alice, "root", ["-tt"])]);
    const other = await openLiveSession([...c.sshArgs(a1, bob, "root", ["-tt"])]);
    const name = await lock("--user", "alice", "--message", "Suspicious activity.");
    expect(await session.ended(3_000)).toBe(255);
    expect(session.proc.output()).toContain('lock targeting User:"alice" is in force: Suspicious activity.');
    other.send("echo STILL-$((1+1))");
    await other.proc.waitForOutput(/STILL-2/);
    expect(other.alive()).toBe(true);
    other.send("exit");
    await other.ended(5_000);
    await c.ctlOk("unlock", name);
    await waitFor(async () => (await c.ctlOk("events", "ls", "--type", "client.disconnect", "--format", "json")).includes("Suspicious activity."), 5_000, "client.disconnect event at the auth service");
  });

  test("expiry lifts a lock on time, with no sync needed", async () => {
    const t0 = Date.now();
    await lock("--user", "bob", "--ttl", "3s");
    await expectAccess(a1, bob, "root", false, /User:"bob"/);
    await expectAccess(a1, bob, "root", true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2_500);
    const listed = JSON.parse(await c.ctlOk("get", "locks", "--format", "json"));
    expect(listed.filter((l: { target: { user?: string } }) => l.target.user === "bob")).toHaveLength(0);
  });
});

describe("unregistering a node", () => {
  test("a lock on a node's server UUID cuts and refuses everything there, shows it locked, and lifts", async () => {
    const session = await openLiveSession([...c.sshArgs(a2, bob, "root", ["-tt"])]);
    const serverId = a2.serverId();
    const name = await lock("--server-id", serverId, "--message", "Decommissioned.");
    expect(await session.ended(3_000)).toBe(255);
    expect(session.proc.output()).toContain(`lock targeting ServerID:"${serverId}" is in force: Decommissioned.`);
    await expectAccess(a2, alice, "root", false, /ServerID/);
    await expectAccess(a1, alice, "root", true);
    const nodes = JSON.parse(await c.ctlOk("nodes", "ls", "--format", "json"));
    expect(nodes.find((n: { server_id: string }) => n.server_id === serverId).state).toBe("locked");
    const ready = await fetch(`http://127.0.0.1:${a2.diagPort}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toContain("node is locked");
    await c.ctlOk("unlock", name);
    await expectAccess(a2, alice, "root", true);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${a2.diagPort}/readyz`)).ok, 5_000, "agent ready again");
  });
});

describe("bad input", () => {
  const bad: [string[], RegExp][] = [
    [[], /give at least one target/],
    [["--user", "a", "--ttl", "1h", "--expires", "2099-01-01T00:00:00Z"], /conflict/],
    [["--user", "a", "--ttl", "10x"], /bad duration/],
    [["--user", "a", "--expires", "2020-01-01T00:00:00Z"], /in the past/],
    [["--user", "a", "--expires", "yesterday"], /expires/],
    [["--colour", "blue"], /Unknown option/],
  ];
  for (const [args, err] of bad) {
    test(`ctl lock ${args.join(" ")} → one-line error, nothing created`, async () => {
      const before = await c.ctlOk("get", "locks", "--format", "json");
      const r = await c.ctl("lock", ...args);
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(err);
      expect(await c.ctlOk("get", "locks", "--format", "json")).toBe(before);
    });
  }
});
