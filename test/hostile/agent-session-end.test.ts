// Sessions end with their connection, on the compiled agent: a client killed with -9
// leaves no process of its session behind, the inventory says `completed` with the
// reason, the recording is finished as interrupted with it; a lock cut says its reason
// in the inventory and the recording the same way.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { playEvents, waitForRecordings } from "../helpers/recordings.ts";
import { run, startProc, waitFor, type Proc } from "../helpers/process.ts";

// Real processes on a shared 2-core machine.
setDefaultTimeout(90_000);

let c: TestCluster;
let a: Agent;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  a = await c.addAgent();
  await c.createRole("shell", `[allow]\nlogins = ["root"]`);
  await c.writeKnownHosts();
}, 60_000);

afterAll(() => c.close());

/** Every process below `pid`, with its command line. */
async function descendants(pid: number): Promise<{ pid: number; args: string }[]> {
  const ps = await run(["ps", "-eo", "pid=,ppid=,args="]);
  const rows = ps.stdout.trim().split("\n").map((l) => l.trim().match(/^(\d+)\s+(\d+)\s+(.*)$/)!).map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3]! }));
  const out: { pid: number; args: string }[] = [];
  const walk = (p: number) => {
    for (const r of rows.filter((x) => x.ppid === p)) {
      out.push({ pid: r.pid, args: r.args });
      walk(r.pid);
    }
  };
  walk(pid);
  return out;
}

interface Row { [k: string]: unknown }
const sessionsOf = async (user: string): Promise<Row[]> => JSON.parse(await c.ctlOk("sessions", "ls", "--user", user, "--format", "json"));

/** Starts `ssh [extra] node command`, waits until `marker` runs on the node. */
async function started(user: SshUser, extra: string[], command: string, marker: RegExp): Promise<Proc> {
  const ssh = startProc([...c.sshArgs(a, user, "root", extra), command], { stdin: "pipe" });
  await waitFor(async () => (await descendants(a.proc.proc.pid)).some((p) => marker.test(p.args)), 20_000, `${marker} running on the node`, 100);
  return ssh;
}

async function expectEndedFor(user: string, reason: RegExp): Promise<void> {
  await waitFor(async () => (await sessionsOf(user)).some((s) => s.state === "completed"), 20_000, `${user}'s session completed in the inventory`, 200);
  const [row] = await sessionsOf(user);
  expect(row).toMatchObject({ state: "completed" });
  expect(String(row!.reason)).toMatch(reason);
  const [rec] = await waitForRecordings(c, user, 1);
  expect(rec).toMatchObject({ state: "interrupted" });
  expect(String(rec!.reason)).toMatch(reason);
  const end = (await playEvents(c, rec!.session_id)).at(-1)!;
  expect(end).toMatchObject({ event: "session.end", interrupted: true });
  expect(String((end as { reason?: string }).reason)).toMatch(reason);
  const ends = (JSON.parse(await c.ctlOk("events", "ls", "--type", "session.end", "--user", user, "--format", "json")) as Row[]);
  expect(ends).toHaveLength(1);
  expect(String(ends[0]!.reason)).toMatch(reason);
}

describe("the client is killed (-9)", () => {
  test("ssh -tt node cat: the PTY is hung up, nothing of the session is left, inventory and recording say why", async () => {
    const user = await c.addUser("kim", ["shell"]);
    const ssh = await started(user, ["-tt"], "exec cat", /^cat$/);
    ssh.proc.kill("SIGKILL");
    await waitFor(async () => (await descendants(a.proc.proc.pid)).length === 0, 15_000, "no process of the session left", 100);
    await expectEndedFor("kim", /^client disconnected$/);
  });

  test("an exec without a PTY (bash -c 'sleep 300; echo x'): its process group is hung up", async () => {
    const user = await c.addUser("lou", ["shell"]);
    const ssh = await started(user, [], "bash -c 'sleep 300; echo x'", /^sleep 300$/);
    ssh.proc.kill("SIGKILL");
    await waitFor(async () => (await descendants(a.proc.proc.pid)).length === 0, 15_000, "no process of the session left", 100);
    await expectEndedFor("lou", /^client disconnected$/);
  });

  test("what the user detached on purpose (setsid) stays theirs", async () => {
    const user = await c.addUser("max", ["shell"]);
    const ssh = await started(user, [], "setsid sleep 3011 </dev/null >/dev/null 2>&1 & exec sleep 3022", /^sleep 3022$/);
    ssh.proc.kill("SIGKILL");
    await waitFor(async () => !(await descendants(a.proc.proc.pid)).some((p) => p.args === "sleep 3022"), 15_000, "the session's own process gone", 100);
    const detached = (await run(["pgrep", "-fx", "sleep 3011"])).stdout.trim().split("\n").filter(Boolean).map(Number);
    expect(detached.length).toBeGreaterThanOrEqual(1);
    for (const pid of detached) process.kill(pid, "SIGKILL");
  });
});

describe("a lock cuts a session", () => {
  test("the inventory and the recording carry the lock's message as the reason", async () => {
    const user = await c.addUser("ned", ["shell"]);
    const ssh = await started(user, ["-tt"], "exec cat", /^cat$/);
    await c.ctlOk("lock", "--user", "ned", "--message", "Cut for the test.");
    await waitFor(() => ssh.proc.exitCode !== null, 15_000, "the client to be cut");
    await waitFor(async () => (await descendants(a.proc.proc.pid)).length === 0, 15_000, "no process of the session left", 100);
    await expectEndedFor("ned", /Cut for the test\./);
  });
});
