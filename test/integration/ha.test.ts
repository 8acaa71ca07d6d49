// Several auth replicas on one PostgreSQL are one cluster: the same CAs, users, locks,
// nodes and nonces; a change made through one replica reaches agents on the other; a
// replica with recordings in an unshared file:// directory is refused beside another.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SQL } from "bun";
import { PG_ADMIN_URL } from "../helpers/postgres.ts";
import { join } from "node:path";
import { ApiClient } from "../../src/platform/api-client.ts";
import { decodeOpenSshPrivateKey } from "../../src/core/openssh-private-key.ts";
import { readIdentity } from "../../src/platform/identity-file.ts";
import type { Agent, SshUser } from "../helpers/cluster.ts";
import { HaCluster, type Replica } from "../helpers/ha-cluster.ts";
import { CLI, run, waitFor } from "../helpers/process.ts";

let c: HaCluster;
let a: Replica;
let b: Replica;
let onA: Agent;
let onB: Agent;
let alice: SshUser;

beforeAll(async () => {
  c = await HaCluster.create();
  a = await c.addReplica("a");
  b = await c.addReplica("b");
  onA = await c.addAgent("", "", {}, a.addr);
  onB = await c.addAgent("", "", {}, b.addr);
  await c.createRole("ops", `[allow]\nlogins = ["root"]`);
  alice = await c.addUser("alice", ["ops"]);
  await c.writeKnownHosts();
}, 120_000);

afterAll(() => c?.close());

const json = async (r: Replica, ...args: string[]) => {
  const out = await r.ctl(...args, "--format", "json");
  if (out.code !== 0) throw new Error(`ctl ${args.join(" ")} via ${r.name}: ${out.stderr}`);
  return JSON.parse(out.stdout);
};

/** Waits until `agent` refuses alice for the lock whose message is `message` (an ssh that fails for another reason, say a timeout under load, does not count). */
// Refused at login ("Permission denied" after the lock's message), not a login the lock
// arrived during and cut: only a refusal is a session.rejected event.
const lockedOut = (agent: Agent, message: string, timeoutMs: number) =>
  waitFor(async () => {
    const { stderr } = await c.ssh(agent, alice, "root", ["true"]);
    return stderr.includes(message) && stderr.includes("Permission denied");
  }, timeoutMs, `the agent to refuse alice for "${message}"`);

test("both replicas answer for one cluster: same CA pin, same nodes, same users", async () => {
  const [sa, sb] = [await json(a, "status"), await json(b, "status")];
  expect(sa.ca_pin).toBe(sb.ca_pin);
  expect(sa.revision).toBe(sb.revision);
  const ids = (nodes: { server_id: string }[]) => nodes.map((n) => n.server_id).sort();
  expect(ids(await json(b, "nodes", "ls"))).toEqual([onA.serverId(), onB.serverId()].sort());
  expect(ids(await json(a, "nodes", "ls"))).toEqual(ids(await json(b, "nodes", "ls")));
  // A certificate signed through B logs in on the agent that follows A, and the other way round.
  const certB = join(c.dir, "alice-via-b-cert.pub");
  expect((await b.ctl("users", "sign", "alice", "--pubkey", `${alice.key}.pub`, "--ttl", "1h", "--out", certB)).code).toBe(0);
  expect((await c.ssh(onA, { ...alice, cert: certB }, "root", ["echo via-a"])).stdout).toBe("via-a\n");
  expect((await c.ssh(onB, alice, "root", ["echo via-b"])).stdout).toBe("via-b\n");
});

test("a join token made through either replica names every live replica for the host to use", async () => {
  const both = [a.addr, b.addr].sort();
  expect((await json(b, "tokens", "add")).auth_servers).toEqual(both);
  const text = (await a.ctl("tokens", "add")).stdout;
  expect(text).toContain(`--auth-server ${both.join(",")} `);
  expect(text).toContain(`auth_servers = [${both.map((s) => `"${s}"`).join(", ")}]`);
});

test("a lock created through B reaches the agent that follows A (and the other way round)", async () => {
  const out = await b.ctl("lock", "--user", "alice", "--message", "incident 7");
  expect(out.code).toBe(0);
  await lockedOut(onA, "incident 7", 15_000);
  const name = (await json(a, "get", "locks"))[0].name as string;
  expect((await a.ctl("rm", `lock/${name}`)).code).toBe(0);
  await waitFor(async () => (await c.ssh(onB, alice, "root", ["true"])).code === 0, 15_000, "the agent on B to let alice back");
});

test("a request token used on one replica is refused on the other", async () => {
  const id = readIdentity(join(onA.dir, "identity"));
  const client = new ApiClient(a.addr, id.caCertPem, { subject: { node: onA.serverId() }, privateKey: decodeOpenSshPrivateKey(id.keyPem) });
  const header = client.authorization("GET", "/v1/status");
  const send = (r: Replica) => fetch(`https://${r.addr}/v1/status`, { headers: { authorization: header }, tls: client.tls });
  expect((await send(a)).status).toBe(200);
  const replay = await send(b);
  expect(replay.status).toBe(401);
  expect(((await replay.json()) as { error: string }).error).toContain("already used");
});

test("a replica keeping recordings in its own file:// directory is refused beside a live one", async () => {
  const dir = join(c.dir, "auth-lonely");
  const cfg = join(c.dir, "auth-lonely.toml");
  await Bun.write(cfg, `data_dir = "${dir}"\nlisten = "127.0.0.1:0"\n[store]\nurl = "${c.db.url}"\n`);
  const r = await run([...CLI, "auth", "start", "--config", cfg], { timeoutMs: 30_000 });
  expect(r.code).not.toBe(0);
  expect(r.stderr + r.stdout).toContain("another auth replica");
  expect(r.stderr + r.stdout).toContain("shared = true");
});

test("kill -9 a replica: its agent resumes the feed on the next one from its revision, and ctl tries the next address", async () => {
  const c3 = await c.addReplica("c");
  const roaming = await c.addAgent(`auth_servers = ["${c3.addr}", "${b.addr}"]`, "", {}, c3.addr);
  const before = (await c.ssh(roaming, alice, "root", ["echo before"])).stdout;
  expect(before).toBe("before\n");
  await c3.proc.stop("SIGKILL");
  // ctl with both addresses: the dead one first.
  const status = await run([...CLI, "ctl", "--identity", b.identity, "--auth", `${c3.addr},${b.addr}`, "status", "--format", "json"]);
  expect(status.code).toBe(0);
  expect(JSON.parse(status.stdout).auth_server).toBe(b.addr);
  // A lock made through B reaches the agent that was on C: its feed resumed on B.
  expect((await b.ctl("lock", "--user", "alice", "--message", "after failover")).code).toBe(0);
  await lockedOut(roaming, "after failover", 20_000);
  const log = roaming.proc.output();
  expect(log).toContain("resuming on the next auth server");
  expect(log.match(/"change feed: snapshot"/g)).toHaveLength(1); // the first start's only: the resume was from its revision
  // What it reports after the failover arrives through B, once.
  await waitFor(async () => (await json(b, "events", "ls", "--type", "session.rejected", "--limit", "100"))
    .some((e: { server_id: string }) => e.server_id === roaming.serverId()), 60_000, "the refusal event through B", 500)
    .catch((e: Error) => {
      // What the agent said about its outbox and its auth servers is what tells why.
      const said = roaming.proc.output().split("\n").filter((l) => /audit|outbox|auth server|feed/.test(l)).slice(-30).join("\n");
      throw new Error(`${e.message}\nthe roaming agent's log:\n${said}`);
    });
  const name = (await json(b, "get", "locks"))[0].name as string;
  expect((await b.ctl("rm", `lock/${name}`)).code).toBe(0);
});

test("PostgreSQL unreachable: /readyz and the API answer 503 with the reason; everything recovers when it returns", async () => {
  const dbName = new URL(c.db.url).pathname.slice(1);
  const admin = new SQL(PG_ADMIN_URL, { max: 1 });
  const readyz = async (r: Replica) => {
    const res = await fetch(`http://127.0.0.1:${r.diagPort}/readyz`);
    return { status: res.status, text: await res.text() };
  };
  try {
    // Cut every replica off: no new connections, the open ones terminated.
    await admin.unsafe(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS false`).simple();
    await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${dbName} AND pid <> pg_backend_pid()`;
    await waitFor(async () => (await readyz(b)).status === 503, 20_000, "replica b not ready");
    expect((await readyz(b)).text).toContain("the auth store is unreachable");
    const refused = await b.ctl("get", "users");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("the auth store is unreachable");
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
  } finally {
    await admin.unsafe(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`).simple();
    await admin.close();
  }
  await waitFor(async () => (await readyz(b)).status === 200, 20_000, "replica b ready again");
  expect((await b.ctl("get", "users")).code).toBe(0);
  // The feeds came back too: a lock through B reaches the agent on A.
  expect((await b.ctl("lock", "--user", "alice", "--message", "after the outage")).code).toBe(0);
  await lockedOut(onA, "after the outage", 30_000);
});
