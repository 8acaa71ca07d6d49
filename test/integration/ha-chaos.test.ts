// The chaos test of the HA control plane: two replicas on one PostgreSQL with recordings
// in S3, an agent on each, live sessions, recordings in node and node-sync mode and a
// user at max_connections; replica A is killed (-9) while a lock is being created
// through B, a lease is being acquired through A and recording parts are on their way
// to A. Afterwards nothing is lost, nothing counted twice and no lease is leaked.
//
// To make "while" hold on every run, A is frozen (SIGSTOP) for the second or two it
// takes to line the operations up (a sealed node-mode part waiting on A, node-sync
// parts waiting on A, an acquire sent to A, the lock command started), then SIGKILLed:
// each is in flight to A when it dies, whatever the machine's load.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { FileSink, Subprocess } from "bun";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Agent, SshUser } from "../helpers/cluster.ts";
import { HaCluster, type Replica } from "../helpers/ha-cluster.ts";
import { httpOk, waitFor, type RunResult } from "../helpers/process.ts";
import { outputOf, playEvents, waitForRecordings, type RecordingRow } from "../helpers/recordings.ts";
import { S3Server } from "../helpers/s3-server.ts";
import { RECORDING_NOTICE } from "../../src/agent/recording/agent-recorder.ts";

let s3: S3Server;
let c: HaCluster;
let a: Replica;
let b: Replica;
let onA: Agent; // auth_servers = [A, B]
let onB: Agent; // auth_servers = [B, A]
let alice: SshUser; // locked during the failover
let bob: SshUser; // max_connections = 2
let carol: SshUser; // runs the recorded sessions that stream output through the failover

const LOCK_MESSAGE = "chaos incident 11";
/** The default, said explicitly: a failover to a live replica must stay far inside it. */
const SYNC_TIMEOUT = "30s";
const NOTICE = `${RECORDING_NOTICE}\r\n`;

interface Event { uid: string; event: string; sid?: string; user?: string; server_id?: string; name?: string; [k: string]: unknown }
interface Lease { key: string; holder: string; node: string }

/** An `ssh -tt` session whose stdout is kept byte for byte (what the client received). */
interface Client {
  proc: Subprocess<"pipe", "pipe", "pipe">;
  stdout(): Buffer;
  stderr(): string;
  send(line: string): void;
  waitForText(re: RegExp, timeoutMs?: number): Promise<void>;
  alive(): boolean;
  ended(timeoutMs: number): Promise<number>;
}

function openClient(argv: string[]): Client {
  const proc = Bun.spawn(argv, { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  const chunks: Buffer[] = [];
  let tail = ""; // the last 256 KiB as latin1, for markers
  let err = "";
  void (async () => {
    for await (const ch of proc.stdout) {
      const buf = Buffer.from(ch);
      chunks.push(buf);
      tail = (tail + buf.toString("latin1")).slice(-256 * 1024);
    }
  })();
  void (async () => {
    for await (const ch of proc.stderr) err += new TextDecoder().decode(ch);
  })();
  const stdin = proc.stdin as FileSink;
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  return {
    proc,
    stdout: () => Buffer.concat(chunks),
    stderr: () => err,
    send(line) {
      stdin.write(line + "\n");
      stdin.flush();
    },
    async waitForText(re, timeoutMs = 15_000) {
      await waitFor(() => re.test(tail) || !alive(), timeoutMs, `ssh output matching ${re}`);
      if (!re.test(tail)) throw new Error(`ssh ended (${proc.exitCode}) before printing ${re}: ${err.slice(-1000)}`);
    },
    alive,
    async ended(timeoutMs) {
      await waitFor(() => !alive(), timeoutMs, "the ssh session to end");
      await proc.exited;
      return proc.exitCode ?? -1;
    },
  };
}

/** Logs `user` in to `agent` with a pty and waits for the shell to answer. */
async function login(agent: Agent, user: SshUser): Promise<Client> {
  const client = openClient(c.sshArgs(agent, user, "root", ["-tt"]));
  client.send("echo READY-$((40+2))");
  await client.waitForText(/READY-42/);
  return client;
}

const ctlJson = async <T>(r: Replica, ...args: string[]): Promise<T> => {
  const out: RunResult = await r.ctl(...args, "--format", "json");
  if (out.code !== 0) throw new Error(`ctl ${args.join(" ")} via ${r.name}: ${out.stderr}`);
  return JSON.parse(out.stdout) as T;
};

/** The spool directory of carol's node-mode session on the agent on A. */
function carolSpool(): string | undefined {
  const root = join(onA.dir, "spool");
  if (!existsSync(root)) return undefined;
  for (const sid of readdirSync(root)) {
    const meta = join(root, sid, "meta.json");
    if (existsSync(meta) && JSON.parse(readFileSync(meta, "utf8")).user === "carol") return join(root, sid);
  }
  return undefined;
}

/** The part being written in a node-mode spool: its number and size. */
function openPart(dir: string): { n: number; bytes: number } | undefined {
  const name = readdirSync(dir).find((f) => /^part-\d{6}\.open$/.test(f));
  if (!name) return undefined;
  try {
    return { n: Number(name.slice(5, 11)), bytes: statSync(join(dir, name)).size };
  } catch {
    return undefined; // sealed meanwhile
  }
}

const gauge = async (agent: Agent, name: string) => {
  const text = await (await fetch(`http://127.0.0.1:${agent.diagPort}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)`, "m").exec(text)?.[1] ?? 0);
};
const agentRevision = (agent: Agent) => gauge(agent, "hostward_agent_view_revision");

beforeAll(async () => {
  s3 = new S3Server(mkdtempSync(join(tmpdir(), "hostward-s3-")));
  await s3.start();
  c = await HaCluster.create("", { s3 });
  a = await c.addReplica("a");
  b = await c.addReplica("b");
  const syncTimeout = `[recording]\nsync_timeout = "${SYNC_TIMEOUT}"`;
  onA = await c.addAgent(`auth_servers = ["${a.addr}", "${b.addr}"]\n${syncTimeout}`, "", {}, a.addr);
  onB = await c.addAgent(`auth_servers = ["${b.addr}", "${a.addr}"]\n${syncTimeout}`, "", {}, b.addr);
  await c.createRole("ops", `[allow]\nlogins = ["root"]`);
  await c.createRole("limited", `[options]\nmax_connections = 2\n[allow]\nlogins = ["root"]`);
  alice = await c.addUser("alice", ["ops"]);
  bob = await c.addUser("bob", ["limited"]);
  carol = await c.addUser("carol", ["ops"]);
  await c.writeKnownHosts();
}, 90_000);

afterAll(async () => {
  if (process.env.CHAOS_LOGS) for (const x of [...c.agents, ...c.replicas]) writeFileSync(join(process.env.CHAOS_LOGS, `${x.name}.log`), x.proc.output());
  await c?.close();
  await s3?.stop().catch(() => {});
  if (s3) rmSync(s3.dir, { recursive: true, force: true });
});

let aliceOnA: Client;
let aliceOnB: Client;
let bob1: Client;
let bob2: Client;
let carolNode: Client;
let carolSync: Client;
let lock: Promise<RunResult>;
const stopNode = () => join(c.dir, "stop-node");
const stopSync = () => join(c.dir, "stop-sync");

test("kill -9 replica A while a lock is created through B, a lease is acquired through A and parts are uploaded through A", async () => {
  aliceOnA = await login(onA, alice);
  aliceOnB = await login(onB, alice);
  bob1 = await login(onA, bob);
  // carol's node-mode session: random output as fast as the client reads it, so its
  // spool seals an 8 MiB part while the session runs.
  carolNode = await login(onA, carol);
  carolNode.send(`while [ ! -e ${stopNode()} ]; do head -c 196608 /dev/urandom | base64 -w 0; echo; done; echo NODE-$((1+1))-DONE`);
  // carol's node-sync session: a steady trickle, each half-second batch a part sent to A.
  writeFileSync(join(c.dir, "cluster.toml"), `kind = "cluster_config"\nsession_recording = "node-sync"\n`);
  expect((await a.ctl("create", "-f", join(c.dir, "cluster.toml"))).code).toBe(0);
  const rev = (await ctlJson<{ revision: number }>(a, "status")).revision;
  await waitFor(async () => (await agentRevision(onA)) >= rev, 10_000, "the agent on A to follow node-sync mode");
  carolSync = await login(onA, carol);
  carolSync.send(`while [ ! -e ${stopSync()} ]; do head -c 3000 /dev/urandom | base64 -w 0; echo; sleep 0.05; done; echo SYNC-$((1+1))-DONE`);
  await waitFor(async () => (await ctlJson<RecordingRow[]>(a, "recordings", "ls", "--user", "carol"))
    .some((r) => r.state === "uploading" && r.bytes > 0), 15_000, "node-sync parts of carol's session stored through A", 100);

  // Line the operations up on A, frozen, and kill it.
  let spool: string | undefined;
  let part: { n: number; bytes: number } | undefined;
  await waitFor(() => (spool = carolSpool()) !== undefined && (part = openPart(spool)) !== undefined && part.bytes >= 6 * 1024 * 1024,
    60_000, "carol's node-mode part to near 8 MiB", 10);
  a.proc.proc.kill("SIGSTOP");
  const sealed = join(spool!, `part-${String(part!.n).padStart(6, "0")}.gz`);
  await waitFor(() => existsSync(sealed), 15_000, "a sealed node-mode part waiting on A");
  await waitFor(async () => (await gauge(onA, "hostward_agent_recording_sync_parts_waiting")) > 0, 10_000, "a node-sync part waiting on A");
  const logFrom = onA.proc.output().length;
  const bob2Login = login(onA, bob);
  await waitFor(() => /asking for a session control lease.*connection\/bob/.test(onA.proc.output().slice(logFrom)), 10_000, "bob's lease request sent to A");
  lock = b.ctl("lock", "--user", "alice", "--message", LOCK_MESSAGE);
  expect(existsSync(sealed)).toBe(true); // not acknowledged by A
  a.proc.proc.kill("SIGKILL");
  await a.proc.proc.exited;
  c.useReplica(b);

  // The login whose lease was being acquired through A gets in (through B).
  bob2 = await bob2Login;
  // The node-sync part A never answered failed there (it is sent again, to B).
  await waitFor(() => onA.proc.output().slice(logFrom).includes(`"recording part not delivered yet"`), 10_000, "the node-sync part on A to fail");
}, 90_000);

test("the lock made through B cuts alice's sessions on both agents", async () => {
  const made = await lock;
  expect(made.code).toBe(0);
  expect(await aliceOnB.ended(20_000)).not.toBe(0);
  expect(await aliceOnA.ended(20_000)).not.toBe(0);
  for (const s of [aliceOnA, aliceOnB]) expect(s.stdout().toString("latin1") + s.stderr()).toContain(LOCK_MESSAGE);
});

test("the agent that was on A follows B: its feed resumed from its revision, no snapshot", async () => {
  const log = onA.proc.output();
  expect(log).toMatch(new RegExp(`change feed lost; resuming on the next auth server.*"next":"${b.addr}"`));
  expect(log.match(/"change feed: snapshot"/g)).toHaveLength(1); // its first start's only
  expect(await httpOk(`http://127.0.0.1:${onA.diagPort}/readyz`)).toBe(true);
  expect(await agentRevision(onA)).toBe((await ctlJson<{ revision: number }>(b, "status")).revision);
});

test("both recordings complete through B with every byte the clients received; node-sync was never closed", async () => {
  expect(carolSync.alive()).toBe(true);
  expect(carolNode.alive()).toBe(true);
  writeFileSync(stopNode(), "");
  writeFileSync(stopSync(), "");
  await carolNode.waitForText(/NODE-2-DONE/, 30_000);
  await carolSync.waitForText(/SYNC-2-DONE/, 30_000);
  for (const s of [carolNode, carolSync]) {
    s.send("exit");
    expect(await s.ended(15_000)).toBe(0);
    expect(s.stderr()).not.toContain("closing this session");
  }
  const recs = (await waitForRecordings(c, "carol", 2, 60_000)).slice(0, 2);
  const byMode = new Map(recs.map((r) => [r.mode, r]));
  const pairs: [RecordingRow | undefined, Client][] = [[byMode.get("node"), carolNode], [byMode.get("node-sync"), carolSync]];
  for (const [rec, client] of pairs) {
    expect(rec?.state).toBe("complete");
    const recorded = outputOf(await playEvents(c, rec!.session_id));
    // What ssh printed is the recording notice, then exactly the recorded output.
    const all = client.stdout();
    expect(all.subarray(0, NOTICE.length).toString()).toBe(NOTICE);
    const received = all.subarray(NOTICE.length);
    // Byte for byte, without printing megabytes when they differ.
    expect({ length: recorded.length, equal: recorded.equals(received) }).toEqual({ length: received.length, equal: true });
  }
  expect(byMode.get("node")!.bytes).toBeGreaterThan(8 * 1024 * 1024);
}, 120_000);

test("no lease leaked or counted twice: bob is at max_connections, then free again", async () => {
  const leases = async () => (await ctlJson<Lease[]>(b, "semaphores", "ls")).filter((l) => l.key === "connection/bob");
  const held = await leases();
  expect(held).toHaveLength(2);
  expect(held.every((l) => l.node === onA.serverId())).toBe(true);
  expect(await gauge(onA, "hostward_agent_leases")).toBe(2); // the agent counts the same two
  const third = await c.ssh(onA, bob, "root", ["true"]);
  expect(third.code).not.toBe(0);
  expect(third.stderr).toContain(`too many concurrent ssh connections for user "bob" (max=2)`);
  for (const s of [bob1, bob2]) {
    s.send("exit");
    expect(await s.ended(15_000)).toBe(0);
  }
  await waitFor(async () => (await ctlJson<Lease[]>(b, "semaphores", "ls")).length === 0, 10_000, "every lease released", 100);
  const again = await c.ssh(onA, bob, "root", ["echo again"]);
  expect(again.stdout).toBe("again\n");
  await waitFor(async () => (await ctlJson<Lease[]>(b, "semaphores", "ls")).length === 0, 10_000, "the new lease released", 100);
});

test("ctl events ls shows every event exactly once", async () => {
  const sessions = async () => (await ctlJson<Event[]>(b, "events", "ls", "--type", "session.start", "--limit", "1000"));
  const starts = await sessions();
  // alice ×2, bob ×3 (two shells and "echo again"), carol ×2.
  expect(starts.filter((e) => e.user === "alice")).toHaveLength(2);
  expect(starts.filter((e) => e.user === "bob")).toHaveLength(3);
  expect(starts.filter((e) => e.user === "carol")).toHaveLength(2);
  const sids = starts.map((e) => e.sid!);
  const aliceSids = starts.filter((e) => e.user === "alice").map((e) => e.sid!);
  let events: Event[] = [];
  const count = (type: string, sid: string) => events.filter((e) => e.event === type && e.sid === sid).length;
  // Everything arrives (an outbox may wait out its retry backoff after the failover).
  await waitFor(async () => {
    events = await ctlJson<Event[]>(b, "events", "ls", "--limit", "1000");
    return sids.every((sid) => count("session.end", sid) > 0 && count("session.upload", sid) > 0)
      && aliceSids.every((sid) => count("client.disconnect", sid) > 0)
      && events.some((e) => e.event === "sessctl.limit" && e.user === "bob");
  }, 60_000, "every session's end, upload and disconnect events", 500);
  expect(events.length).toBeLessThan(1000);
  expect(new Set(events.map((e) => e.uid)).size).toBe(events.length);
  // Once per (type, session): nothing sent twice under a new uid, by an agent or a replica.
  const perSession = new Map<string, number>();
  for (const e of events) if (e.sid) perSession.set(`${e.event} ${e.sid}`, (perSession.get(`${e.event} ${e.sid}`) ?? 0) + 1);
  expect([...perSession].filter(([, n]) => n !== 1)).toEqual([]);
  for (const sid of sids) for (const type of ["session.start", "session.end", "session.upload"]) expect(count(type, sid)).toBe(1);
  for (const sid of aliceSids) expect(count("client.disconnect", sid)).toBe(1);
  expect(events.filter((e) => e.event === "lock.created" && e.message === LOCK_MESSAGE)).toHaveLength(1);
  expect(events.filter((e) => e.event === "sessctl.limit" && e.user === "bob")).toHaveLength(1);
}, 90_000);

test("a replica that freezes (SIGSTOP, never killed): its agent's node-sync session carries on through B within sync_timeout", async () => {
  const frozen = await c.addReplica("c");
  const onC = await c.addAgent(`auth_servers = ["${frozen.addr}", "${b.addr}"]\n[recording]\nsync_timeout = "6s"`, "", {}, frozen.addr);
  const session = await login(onC, carol);
  const stop = join(c.dir, "stop-frozen");
  session.send(`while [ ! -e ${stop} ]; do head -c 3000 /dev/urandom | base64 -w 0; echo; sleep 0.05; done; echo FROZEN-$((1+1))-DONE`);
  const mine = async () => (await ctlJson<(RecordingRow & { server_id: string })[]>(b, "recordings", "ls", "--user", "carol", "--node", onC.serverId()))[0];
  await waitFor(async () => ((await mine())?.bytes ?? 0) > 0, 15_000, "node-sync parts stored through C", 100);
  frozen.proc.proc.kill("SIGSTOP");
  try {
    const logFrom = onC.proc.output().length;
    await waitFor(async () => (await gauge(onC, "hostward_agent_recording_sync_parts_waiting")) > 0, 10_000, "a node-sync part waiting on C");
    const before = (await mine())!.bytes;
    // The part C never answers goes to B well inside sync_timeout; later ones follow.
    await waitFor(() => onC.proc.output().slice(logFrom).includes(`"recording part not delivered yet"`), 10_000, "the part on C to time out");
    await waitFor(async () => (await mine())!.bytes > before, 15_000, "node-sync parts stored through B", 200);
    expect(session.alive()).toBe(true);
    writeFileSync(stop, "");
    await session.waitForText(/FROZEN-2-DONE/, 30_000);
    session.send("exit");
    expect(await session.ended(15_000)).toBe(0);
    expect(session.stderr()).not.toContain("closing this session");
    let rec: RecordingRow | undefined;
    await waitFor(async () => (rec = await mine())?.state === "complete", 30_000, "the recording to complete through B", 200);
    const all = session.stdout();
    expect(outputOf(await playEvents(c, rec!.session_id)).equals(all.subarray(NOTICE.length))).toBe(true);
  } finally {
    frozen.proc.proc.kill("SIGKILL");
  }
}, 120_000);
