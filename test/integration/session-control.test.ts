// Session control end to end: max_sessions over a real ControlMaster
// connection, cluster-wide max_connections leases across two agents that never
// linger, leases gone at once after kill -9 and restart, refusal while the auth
// service is down, leases that cannot be renewed, and max_session_ttl.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { clientFor } from "../../src/platform/identity-selection.ts";
import { ApiError } from "../../src/platform/api-client.ts";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { openLiveSession, type LiveSession } from "../helpers/live-session.ts";
import { nodeApi } from "../helpers/node-api.ts";
import { run, waitFor } from "../helpers/process.ts";
import { openMux } from "../helpers/ssh-mux.ts";

let c: TestCluster;
let a1: Agent;
let a2: Agent;
let alice: SshUser; // max_connections = 2, max_sessions = 2 (smallest over two roles)
let bob: SshUser; // max_connections = 1
let carol: SshUser; // max_session_ttl = 3s
let dave: SshUser; // no limits

interface Lease { key: string; holder: string; node: string }
interface Event { event: string; code: string; [k: string]: unknown }

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  [a1, a2] = [await c.addAgent(), await c.addAgent()];
  await c.createRole("limited-ssh", `[options]\nmax_connections = 2\nmax_sessions = 2\n[allow]\nlogins = ["root"]`);
  await c.createRole("wide", `[options]\nmax_connections = 20\nmax_sessions = 10\n[allow]\nlogins = ["root"]`);
  await c.createRole("one-at-a-time", `[options]\nmax_connections = 1\n[allow]\nlogins = ["root"]`);
  await c.createRole("short", `[options]\nmax_session_ttl = "3s"\n[allow]\nlogins = ["root"]`);
  await c.createRole("free", `[allow]\nlogins = ["root"]`);
  alice = await c.addUser("alice", ["limited-ssh", "wide"]);
  bob = await c.addUser("bob", ["one-at-a-time"]);
  carol = await c.addUser("carol", ["short"]);
  // The role caps carol's certificate at 3s too; sign one that outlives the session.
  const signed = await run(["ssh-keygen", "-q", "-s", join(c.dir, "auth", "ssh", "user_ca"), "-I", "carol", "-n", "root", "-V", "-5m:+1h", "-O", "permit-pty", carol.key + ".pub"]);
  expect(signed.code).toBe(0);
  dave = await c.addUser("dave", ["free"]);
  await c.writeKnownHosts();
}, 60_000);

afterAll(() => c.close());

const leases = async (user: string): Promise<Lease[]> =>
  (JSON.parse(await c.ctlOk("semaphores", "ls", "--format", "json")) as Lease[]).filter((l) => l.key === `connection/${user}`);

const events = async (type: string, user: string): Promise<Event[]> =>
  JSON.parse(await c.ctlOk("events", "ls", "--type", type, "--user", user, "--format", "json"));

async function waitLeases(user: string, n: number, within = 5_000): Promise<Lease[]> {
  let last: Lease[] = [];
  await waitFor(async () => (last = await leases(user)).length === n, within, `${n} leases for ${user}`, 100);
  return last;
}

async function close(...sessions: LiveSession[]): Promise<void> {
  for (const s of sessions) {
    if (!s.alive()) continue;
    s.send("exit");
    await s.ended(5_000);
  }
}

async function setControlTimeout(ttl: string): Promise<void> {
  const f = join(c.dir, "cluster.toml");
  writeFileSync(f, `kind = "cluster_config"\nsession_control_timeout = "${ttl}"\n`);
  await c.ctlOk("create", "-f", f);
}

describe("max_sessions", () => {
  test("over one ControlMaster connection the third session channel is refused; the first two and the connection stay", async () => {
    const mux = await openMux(c.sshArgs(a1, alice, "root"), c.dir, "alice");
    try {
      const one = await openLiveSession(mux.args(["-tt"]));
      const two = await openLiveSession(mux.args(["-tt"]));
      const third = await mux.run(["echo THIRD"]);
      expect(third.stdout).not.toContain("THIRD");
      expect(third.code).not.toBe(0);
      expect(third.stderr).toContain('hostward: too many session channels for user "alice" (max=2)');
      one.send("echo ONE-$((1+1))");
      two.send("echo TWO-$((2+2))");
      await one.proc.waitForOutput(/ONE-2/);
      await two.proc.waitForOutput(/TWO-4/);
      await close(one);
      expect((await mux.run(["echo AGAIN"])).stdout).toBe("AGAIN\n"); // a freed slot is usable at once
      await close(two);
    } finally {
      await mux.exit();
    }
    let limit: Event | undefined;
    await waitFor(async () => !!(limit = (await events("sessctl.limit", "alice")).find((e) => e.sessctl_kind === "session")), 5_000, "sessctl.limit event", 100);
    const { seq: _seq, ...fields } = limit!;
    expect(Object.keys(fields).sort()).toEqual(["code", "event", "max", "proto", "server_id", "sessctl_kind", "time", "uid", "user"]);
    expect(fields).toMatchObject({ code: "T1006W", event: "sessctl.limit", max: 2, proto: "ssh", server_id: a1.serverId(), sessctl_kind: "session", user: "alice" });
    await waitLeases("alice", 0);
  });
});

describe("max_connections", () => {
  test("the third connection is refused anywhere in the cluster; a closed one frees its slot at once", async () => {
    const s1 = await openLiveSession(c.sshArgs(a1, alice, "root", ["-tt"]));
    const s2 = await openLiveSession(c.sshArgs(a2, alice, "root", ["-tt"]));
    const held = await waitLeases("alice", 2);
    expect(held.map((l) => l.holder.split("/")[0]).sort()).toEqual([a1.serverId(), a2.serverId()].sort());
    for (const agent of [a1, a2]) {
      const r = await c.ssh(agent, alice, "root", ["echo in"]);
      expect(r.code).toBe(255);
      expect(r.stderr).toContain('hostward: too many concurrent ssh connections for user "alice" (max=2)');
    }
    expect((await c.ssh(a1, dave, "root", ["echo in"])).stdout).toBe("in\n"); // others are not limited by alice
    await close(s1);
    expect((await c.ssh(a2, alice, "root", ["echo in"])).stdout).toBe("in\n");
    await close(s2);
    await waitLeases("alice", 0);
    const limits = (await events("sessctl.limit", "alice")).filter((e) => e.sessctl_kind === "connection");
    expect(limits.length).toBeGreaterThanOrEqual(2);
    expect(limits[0]).toMatchObject({ code: "T1006W", max: 2, user: "alice", proto: "ssh" });
  });

  test("100 short sequential connections with max_connections=1 all get in: no lease lingers", async () => {
    const failures: string[] = [];
    for (let i = 0; i < 100; i++) {
      const r = await c.ssh(i % 2 ? a1 : a2, bob, "root", ["true"]);
      if (r.code !== 0) failures.push(`#${i}: ${r.code} ${r.stderr.trim()}`);
    }
    expect(failures).toEqual([]);
    await waitLeases("bob", 0);
  }, 300_000); // 100 logins: about 10 s on an idle machine, minutes on a loaded one

  test("ctl semaphores ls shows holders; rm clears one so another connection fits", async () => {
    const s1 = await openLiveSession(c.sshArgs(a1, alice, "root", ["-tt"]));
    const s2 = await openLiveSession(c.sshArgs(a2, alice, "root", ["-tt"]));
    const held = await waitLeases("alice", 2);
    const table = await c.ctlOk("semaphores", "ls");
    for (const l of held) expect(table).toContain(l.holder);
    const victim = held.find((l) => l.node === a2.serverId())!;
    expect(await c.ctlOk("semaphores", "rm", "connection/alice", victim.holder)).toContain(`held by "${victim.holder}" removed`);
    const s3 = await openLiveSession(c.sshArgs(a1, alice, "root", ["-tt"]));
    const bad = await c.ctl("semaphores", "rm", "connection/alice", victim.holder);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toContain("no lease on");
    await close(s1, s2, s3);
    await waitLeases("alice", 0);
  });

  test("kill -9 an agent holding leases, restart it: its leases are gone at once, not after the TTL", async () => {
    const s1 = await openLiveSession(c.sshArgs(a2, alice, "root", ["-tt"]));
    const s2 = await openLiveSession(c.sshArgs(a2, bob, "root", ["-tt"]));
    await waitLeases("alice", 1);
    await waitLeases("bob", 1);
    await a2.stop("SIGKILL");
    await s1.ended(5_000);
    await s2.ended(5_000);
    expect(await leases("alice")).toHaveLength(1); // the auth service cannot know yet (TTL is 2m)
    const t0 = Date.now();
    await a2.start();
    expect(await leases("alice")).toHaveLength(0);
    expect(await leases("bob")).toHaveLength(0);
    expect(Date.now() - t0).toBeLessThan(30_000);
    const [x, y] = [await openLiveSession(c.sshArgs(a1, alice, "root", ["-tt"])), await openLiveSession(c.sshArgs(a2, alice, "root", ["-tt"]))];
    await close(x, y);
    await waitLeases("alice", 0);
  });

  test("auth service down: limited logins are refused with the reason, unlimited users are unaffected", async () => {
    await c.stopAuth();
    try {
      const limited = await c.ssh(a1, alice, "root", ["echo in"]);
      expect(limited.code).toBe(255);
      expect(limited.stderr).toContain('hostward: max_connections for user "alice" cannot be checked: the auth service is unreachable');
      expect((await c.ssh(a1, dave, "root", ["echo in"])).stdout).toBe("in\n");
      expect((await c.ssh(a1, carol, "root", ["echo in"])).stdout).toBe("in\n");
    } finally {
      await c.startAuth();
    }
    await waitFor(async () => (await c.ssh(a1, alice, "root", ["echo in"])).stdout === "in\n", 10_000, "limited logins back with the auth service", 200);
  });

  test("a lease that cannot be renewed before it expires closes its connection, with the reason", async () => {
    await setControlTimeout("4s");
    try {
      const s = await openLiveSession(c.sshArgs(a1, alice, "root", ["-tt"]));
      await waitLeases("alice", 1);
      await c.stopAuth();
      const t0 = Date.now();
      try {
        expect(await s.ended(8_000)).toBe(255);
        expect(Date.now() - t0).toBeLessThan(5_000);
        expect(s.proc.output()).toContain('session control lease for user "alice" expired');
      } finally {
        await c.startAuth();
      }
      // Renewal happens at TTL/2; a removed lease is noticed there and closes its connection.
      const kept = await openLiveSession(c.sshArgs(a1, alice, "root", ["-tt"]));
      await waitFor(async () => (await leases("alice")).length === 1, 10_000, "lease taken after the restart", 200);
      await c.ctlOk("semaphores", "rm", "connection/alice");
      expect(await kept.ended(4_000)).toBe(255);
      expect(kept.proc.output()).toContain('session control lease for user "alice" was removed');
    } finally {
      await setControlTimeout("2m");
    }
  });
});

describe("max_session_ttl", () => {
  test("a session still open at that age is closed on time and the user is told why", async () => {
    const t0 = Date.now();
    const s = await openLiveSession(c.sshArgs(a1, carol, "root", ["-tt"]));
    expect(await s.ended(8_000)).toBe(255);
    const age = Date.now() - t0;
    expect(age).toBeGreaterThanOrEqual(2_900);
    expect(age).toBeLessThan(6_000);
    expect(s.proc.output()).toContain("hostward: session closed: it reached its maximum age of 3s (max_session_ttl)");
    const exec = await c.ssh(a1, carol, "root", ["sleep 30; echo never"], { timeoutMs: 15_000 });
    expect(exec.stdout).not.toContain("never");
    expect(exec.stderr).toContain("maximum age of 3s");
    await waitFor(async () => (await events("client.disconnect", "carol")).some((e) => String(e.reason).includes("max_session_ttl") && typeof e.sid === "string"), 5_000, "client.disconnect for the TTL cut", 100);
  });
});

describe("semaphore API abuse", () => {
  test("a node may only take, renew and release leases as itself", async () => {
    const api1 = nodeApi(a1, c.authAddr);
    const s = await openLiveSession(c.sshArgs(a2, alice, "root", ["-tt"]));
    const [theirs] = await waitLeases("alice", 1);
    const refused = async (path: string, body: unknown) => {
      const e = await api1.request("POST", path, body).then(() => undefined, (err: ApiError) => err);
      expect(e).toBeInstanceOf(ApiError);
      expect(e!.status).toBe(403);
      expect(e!.message).toContain("belongs to another node");
    };
    await refused("/v1/semaphores/acquire", { key: "connection/alice", holder: `${a2.serverId()}/forged`, max: 5 });
    await refused("/v1/semaphores/release", { key: theirs!.key, holder: theirs!.holder });
    await refused("/v1/semaphores/renew", { leases: [{ key: theirs!.key, holder: theirs!.holder }] });
    expect((await leases("alice")).map((l) => l.holder)).toEqual([theirs!.holder]);
    const bad = await api1.request("POST", "/v1/semaphores/acquire", { key: "connection/alice", holder: `${a1.serverId()}/x`, max: -1 }).catch((e: ApiError) => e);
    expect((bad as ApiError).status).toBe(400);
    const admin = clientFor({ kind: "identity", path: c.identity });
    const byPerson = await admin.request("POST", "/v1/semaphores/release", { key: theirs!.key, holder: theirs!.holder }).catch((e: ApiError) => e);
    expect((byPerson as ApiError).status).toBe(403); // people clear leases with ctl semaphores rm, not as a node
    await close(s);
    await waitLeases("alice", 0);
  });
});

describe("bad input", () => {
  const cases: [string, string, RegExp][] = [
    ["neg.toml", 'kind = "role"\nname = "r"\n[options]\nmax_connections = -1', /neg\.toml: options\.max_connections: must be a positive integer, got -1/],
    ["frac.toml", 'kind = "role"\nname = "r"\n[options]\nmax_sessions = 1.5', /frac\.toml: options\.max_sessions: must be a positive integer, got 1\.5/],
    ["ttl.toml", 'kind = "role"\nname = "r"\n[options]\nmax_session_ttl = "8x"', /ttl\.toml: options\.max_session_ttl: bad duration "8x"/],
    ["cc.toml", 'kind = "cluster_config"\nsession_control_timeout = "0s"', /cc\.toml: session_control_timeout: must be greater than zero/],
    ["cc2.toml", 'kind = "cluster_config"\nsession_control_timeout = "2 minutes"', /cc2\.toml: session_control_timeout: bad duration/],
  ];
  for (const [file, body, err] of cases) {
    test(`${file}: one line naming the file and key, nothing saved`, async () => {
      const path = join(c.dir, file);
      writeFileSync(path, body + "\n");
      const r = await c.ctl("create", "-f", path);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(err);
    });
  }
});
