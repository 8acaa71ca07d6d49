// The agent's audit outbox when agent.db cannot grow (SQLITE_FULL): its data_dir on a
// small tmpfs filled to the last page, the auth service away. Sessions still run, their
// audit events are held in memory, the agent never exits, and once the auth service is
// back every event arrives exactly once; with room again agent.db takes events again.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync, statfsSync } from "node:fs";
import { join } from "node:path";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { addAgentOnSmallDisk, type SmallDiskAgent } from "../helpers/small-disk.ts";
import { run, waitFor } from "../helpers/process.ts";

// Real processes on a shared 2-core machine.
setDefaultTimeout(120_000);

let c: TestCluster;
let agent: Agent;
let alice: SshUser;
let mountPoint = "";
let disk: SmallDiskAgent | undefined;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  disk = await addAgentOnSmallDisk(c, "8m");
  ({ agent, mountPoint } = disk);
  // Not recorded: the spool would share the full disk; this test is about agent.db alone.
  await c.createRole("ssh", `[allow]\nlogins = ["root"]\n[options.record_session]\nssh = false`);
  alice = await c.addUser("alice", ["ssh"]);
  await c.writeKnownHosts();
}, 60_000);

afterAll(async () => {
  await disk?.release();
  await c.close();
});

const alive = () => agent.proc.proc.exitCode === null && agent.proc.proc.signalCode === null;

async function execCommands(): Promise<string[]> {
  const rows = JSON.parse(await c.ctlOk("events", "ls", "--type", "exec", "--user", "alice", "--format", "json")) as { command?: string }[];
  return rows.map((r) => r.command ?? "");
}

test("SQLITE_FULL on agent.db: events held in memory, sessions go on, nothing lost, no exit", async () => {
  expect((await c.ssh(agent, alice, "root", ["echo before"])).stdout).toBe("before\n");
  await waitFor(async () => (await execCommands()).includes("echo before"), 30_000, "the first exec event");

  await c.stopAuth();
  // Fill the file system to its last block: agent.db's write-ahead log cannot grow.
  const ballast = join(mountPoint, "ballast");
  const fill = await run(["sh", "-c", `cat /dev/zero > ${ballast}`]);
  expect(fill.stderr).toContain("No space left on device");
  expect(statfsSync(mountPoint).bavail).toBe(0);

  const commands = Array.from({ length: 6 }, (_, i) => `echo held-${i}`);
  for (const cmd of commands) expect((await c.ssh(agent, alice, "root", [cmd])).stdout).toBe(`${cmd.slice(5)}\n`);
  await agent.proc.waitForOutput(/audit events cannot be written to agent\.db \(disk full\); holding them in memory/, 20_000);
  expect(agent.proc.output()).toMatch(/SQLITE_FULL|database or disk is full/);
  expect(agent.proc.output()).not.toContain("audit events lost");
  expect(alive()).toBe(true);

  // The auth service back, the disk still full: the held events go straight to it, once each.
  await c.startAuth();
  await waitFor(async () => {
    const got = await execCommands();
    return commands.every((cmd) => got.includes(cmd));
  }, 60_000, "the held exec events");
  const delivered = await execCommands();
  for (const cmd of commands) expect(delivered.filter((x) => x === cmd)).toHaveLength(1);
  const starts = JSON.parse(await c.ctlOk("events", "ls", "--type", "session.start", "--user", "alice", "--format", "json")) as unknown[];
  const ends = JSON.parse(await c.ctlOk("events", "ls", "--type", "session.end", "--user", "alice", "--format", "json")) as unknown[];
  expect(starts).toHaveLength(1 + commands.length);
  expect(ends).toHaveLength(1 + commands.length);
  expect(alive()).toBe(true);

  // Room again: agent.db takes events, and they arrive too.
  rmSync(ballast);
  expect((await c.ssh(agent, alice, "root", ["echo after"])).stdout).toBe("after\n");
  await waitFor(async () => (await execCommands()).includes("echo after"), 30_000, "the exec event after the disk has room");
  expect(alive()).toBe(true);
});
