// The web console and session control on two auth replicas sharing one PostgreSQL: a
// sign-in link issued through one replica works (once) through the other, a browser
// session is one session on both and ends on both, and a terminate sent through either
// replica reaches the agent whose feed is on the other. Plain HTTPS with the console's
// own protocol (the browser flow itself is test/integration/web-console.test.ts).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Agent, SshUser } from "../helpers/cluster.ts";
import { HaCluster, type Replica } from "../helpers/ha-cluster.ts";
import { openLiveSession } from "../helpers/live-session.ts";
import { CLI, freePort, run, waitFor } from "../helpers/process.ts";

const COOKIE = "__Host-hostward_session";
const TLS = { rejectUnauthorized: false };

let c: HaCluster;
let a: Replica;
let b: Replica;
const web: Record<string, string> = {};
let onA: Agent;
let alice: SshUser;

beforeAll(async () => {
  c = await HaCluster.create();
  for (const name of ["a", "b"]) {
    const port = await freePort();
    web[name] = `https://127.0.0.1:${port}`;
    const r = await c.addReplica(name, (extra) => `${extra}\n[web]\nlisten = "127.0.0.1:${port}"\n`);
    if (name === "a") a = r;
    else b = r;
  }
  onA = await c.addAgent("", "", {}, a.addr);
  await c.createRole("ops", `[allow]\nlogins = ["root"]`);
  alice = await c.addUser("alice", ["ops"]);
  await c.writeKnownHosts();
}, 120_000);

afterAll(() => c?.close());

/** A person's identity file (key and certificate) for `hostward web`, pointing at replica A. */
function identityOf(user: SshUser): string {
  const admin = Bun.TOML.parse(readFileSync(a.identity, "utf8")) as Record<string, string>;
  const path = join(c.dir, `${user.name}.identity`);
  const q = (s: string) => JSON.stringify(s);
  writeFileSync(path, `auth_server = ${q(admin.auth_server!)}\nca_pin = ${q(admin.ca_pin!)}\nca_cert = ${q(admin.ca_cert!)}\nkey = ${q(readFileSync(user.key, "utf8"))}\ncert = ${q(readFileSync(user.cert, "utf8").trim())}\n`, { mode: 0o600 });
  return path;
}

/** `hostward web` against replica A (the identity names it): the link's token. */
async function linkThroughA(identity = a.identity): Promise<string> {
  const r = await run([...CLI, "web", "--no-browser", "--identity", identity]);
  expect(r.code).toBe(0);
  const link = /https:\/\/\S+/.exec(r.stdout)![0];
  expect(link.startsWith(`${web.a}/signin/`)).toBe(true);
  return link.slice(`${web.a}/signin/`.length);
}

const redeem = (replica: string, token: string) => fetch(`${web[replica]}/signin/${token}`, { redirect: "manual", tls: TLS });

function cookieOf(res: Response): string {
  const m = new RegExp(`${COOKIE}=([^;]+)`).exec(res.headers.get("set-cookie") ?? "");
  expect(m).not.toBeNull();
  return m![1]!;
}

const me = (replica: string, cookie: string) => fetch(`${web[replica]}/web/me`, { headers: { cookie: `${COOKIE}=${cookie}` }, tls: TLS });

test("a sign-in link issued through A signs in through B, once; concurrent redemptions on both: one wins", async () => {
  const token = await linkThroughA();
  const onB = await redeem("b", token);
  expect(onB.status).toBe(303);
  expect(onB.headers.get("location")).toBe("/");
  const cookie = cookieOf(onB);
  // The same link again, on either replica: used up.
  for (const r of ["a", "b"]) {
    const again = await redeem(r, token);
    expect(again.status).toBe(401);
    expect(await again.text()).toContain("already used");
  }
  const who = await me("b", cookie);
  expect(who.status).toBe(200);
  expect(((await who.json()) as { user: string }).user).toBe("admin");

  const raced = await linkThroughA();
  const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => redeem(i % 2 ? "a" : "b", raced)));
  expect(answers.map((r) => r.status).sort()).toEqual([303, 401, 401, 401, 401, 401, 401, 401]);
  const signins = JSON.parse((await b.ctl("events", "ls", "--type", "web.signin", "--format", "json")).stdout) as unknown[];
  expect(signins).toHaveLength(2);
});

test("a browser session is valid on both replicas, and signing out through one ends it on both", async () => {
  const cookie = cookieOf(await redeem("a", await linkThroughA()));
  const [viaA, viaB] = [await me("a", cookie), await me("b", cookie)];
  expect([viaA.status, viaB.status]).toEqual([200, 200]);
  const [bodyA, bodyB] = [(await viaA.json()) as { user: string; csrf: string; expires: string }, (await viaB.json()) as { user: string; csrf: string; expires: string }];
  // One session: the same person, CSRF token and end on both.
  expect(bodyB).toMatchObject({ user: bodyA.user, csrf: bodyA.csrf, expires: bodyA.expires });
  // An API call through B with the session started on A.
  const nodes = await fetch(`${web.b}/api/v1/nodes`, { headers: { cookie: `${COOKIE}=${cookie}` }, tls: TLS });
  expect(nodes.status).toBe(200);
  expect(((await nodes.json()) as { server_id: string }[]).map((n) => n.server_id)).toContain(onA.serverId());
  // A's CSRF token is B's: sign out through B.
  const out = await fetch(`${web.b}/web/signout`, { method: "POST", headers: { cookie: `${COOKIE}=${cookie}`, origin: web.b!, "x-csrf-token": bodyA.csrf }, tls: TLS });
  expect(out.status).toBe(200);
  for (const r of ["a", "b"]) {
    const after = await me(r, cookie);
    expect(after.status).toBe(401);
    expect(((await after.json()) as { signed_out: boolean }).signed_out).toBe(true);
  }
});

test("a lock on a person signs out their sessions on every replica, and they stay out after the lock goes", async () => {
  const identity = identityOf(alice);
  const cookies = [cookieOf(await redeem("a", await linkThroughA(identity))), cookieOf(await redeem("b", await linkThroughA(identity)))];
  for (const k of cookies) for (const r of ["a", "b"]) expect((await me(r, k)).status).toBe(200);
  expect((await b.ctl("lock", "--user", "alice", "--message", "console incident")).code).toBe(0);
  // Replica A learns of the lock from the feed; its next request for alice ends every session of hers.
  await waitFor(async () => (await me("a", cookies[0]!)).status === 401, 15_000, "A to sign alice out");
  const name = (JSON.parse((await a.ctl("get", "locks", "--format", "json")).stdout) as { name: string }[])[0]!.name;
  expect((await a.ctl("rm", `lock/${name}`)).code).toBe(0);
  // Both replicas let her sign in again once the lock is gone (a new link through A, redeemed on B)...
  await waitFor(async () => (await redeem("b", await linkThroughA(identity))).status === 303, 15_000, "alice to sign in again through B");
  // ...but her other session (signed in through B, not used since the lock) ended with the first, on B too.
  for (const r of ["a", "b"]) expect((await me(r, cookies[1]!)).status).toBe(401);
});

test("terminate through B reaches a live ssh -tt session on the agent that follows A; an unreachable node is a 503", async () => {
  const live = await openLiveSession(c.sshArgs(onA, alice, "root", ["-tt"]));
  let sid = "";
  await waitFor(async () => {
    const rows = JSON.parse((await b.ctl("sessions", "ls", "--state", "active", "--user", "alice", "--format", "json")).stdout) as { id: string }[];
    sid = rows[0]?.id ?? "";
    return rows.length === 1;
  }, 15_000, "alice's session in the inventory");
  const t0 = performance.now();
  const out = await b.ctl("sessions", "terminate", sid, "--message", "moved to the other replica");
  const relayedMs = performance.now() - t0;
  expect(out.code).toBe(0);
  expect(out.stdout).toContain("terminate sent (by another replica)");
  expect(await live.ended(15_000)).not.toBe(0);
  const endedMs = performance.now() - t0;
  expect(live.proc.output()).toContain("session terminated by admin: moved to the other replica");
  const audit = JSON.parse((await a.ctl("events", "ls", "--type", "session.terminate", "--format", "json")).stdout) as { sid: string; user: string }[];
  expect(audit.filter((e) => e.sid === sid)).toHaveLength(1);
  // Through A itself: no relay needed.
  const local = await openLiveSession(c.sshArgs(onA, alice, "root", ["-tt"]));
  const localSid = await activeSid(sid);
  const t1 = performance.now();
  const direct = await a.ctl("sessions", "terminate", localSid);
  const directMs = performance.now() - t1;
  expect(direct.stdout).toContain("terminate sent (by this replica)");
  await local.ended(15_000);
  console.log(`terminate: ctl through the other replica answered in ${relayedMs.toFixed(0)} ms (client gone after ${endedMs.toFixed(0)} ms); through the feed's own replica ${directMs.toFixed(0)} ms`);

  // A node whose agent is gone (killed: it never reported the end) is on no replica: refused, said so.
  const gone = await c.addAgent("", "", {}, b.addr);
  const doomed = await openLiveSession(c.sshArgs(gone, alice, "root", ["-tt"]));
  const doomedSid = await activeSid(sid, localSid);
  await gone.stop("SIGKILL");
  await doomed.ended(15_000);
  const t2 = performance.now();
  const refused = await b.ctl("sessions", "terminate", doomedSid);
  console.log(`terminate: a node on no replica refused after ${(performance.now() - t2).toFixed(0)} ms`);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain(`node ${gone.serverId()} is not connected to any auth replica`);
  const audited = JSON.parse((await b.ctl("events", "ls", "--type", "session.terminate", "--format", "json")).stdout) as { sid: string }[];
  expect(audited.some((e) => e.sid === doomedSid)).toBe(false);
}, 90_000);

/** The id of alice's one active session other than `not`. */
async function activeSid(...not: string[]): Promise<string> {
  let sid = "";
  await waitFor(async () => {
    const rows = JSON.parse((await b.ctl("sessions", "ls", "--state", "active", "--user", "alice", "--format", "json")).stdout) as { id: string }[];
    sid = rows.find((r) => !not.includes(r.id))?.id ?? "";
    return sid !== "";
  }, 15_000, "alice's new session in the inventory");
  return sid;
}
