// The agent's data_dir on a 20 MiB file system (tmpfs), the auth service stopped, and a
// session printing ~30 MB: the session is cut, new ones are refused (min_free), the agent
// never exits on SQLITE_FULL or ENOSPC (nor after a restart on a full disk), never moves
// valid parts aside as corrupt, and uploads everything once the auth service is back (10).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { addAgentOnSmallDisk, type SmallDiskAgent } from "../helpers/small-disk.ts";
import { waitFor } from "../helpers/process.ts";
import { playEvents, recordingsOf, waitForRecordings } from "../helpers/recordings.ts";

let c: TestCluster;
let agent: Agent;
let alice: SshUser;
let mountPoint = "";
let disk: SmallDiskAgent | undefined;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  disk = await addAgentOnSmallDisk(c, "20m", `[recording]\nmin_free = "4MiB"`);
  ({ agent, mountPoint } = disk);
  await c.createRole("rec", `[allow]\nlogins = ["root"]`);
  alice = await c.addUser("alice", ["rec"]);
  await c.writeKnownHosts();
}, 60_000);

afterAll(async () => {
  await disk?.release();
  await c.close();
});

const alive = () => agent.proc.proc.exitCode === null && agent.proc.proc.signalCode === null;
const spooled = () => (existsSync(join(agent.dir, "spool")) ? readdirSync(join(agent.dir, "spool")) : []);

test("a full spool disk cuts the session and refuses new ones; the agent survives it, a restart, and uploads everything later", async () => {
  expect((await c.ssh(agent, alice, "root", ["echo small"])).stdout).toBe("small\n");
  await waitForRecordings(c, "alice", 1);

  await c.stopAuth();
  // Up to ~80 MB of base64 (random, so it barely compresses): the 20 MiB disk fills long before the end.
  const big = await c.ssh(agent, alice, "root", ["for i in $(seq 60); do head -c 1000000 /dev/urandom | base64 -w 0; done; echo; echo FINISHED"], { timeoutMs: 120_000 });
  expect(big.code).not.toBe(0);
  expect(big.stdout).not.toContain("FINISHED");
  // The cut's reason goes to the client's stderr, behind a window full of stdout; the
  // agent's own log is where it is certain.
  expect(agent.proc.output()).toMatch(/"msg":"session recording failed".*ENOSPC: no space left on device/);
  expect(alive()).toBe(true);

  // A restart on the full disk, the auth service still away: no exit, nothing moved aside.
  await agent.stop("SIGKILL");
  await agent.start({ ready: false });
  await agent.proc.waitForOutput(/recording upload failed; will retry/, 20_000);
  const refused = await c.ssh(agent, alice, "root", ["echo refused"]);
  expect(refused.stderr).toContain("recording.min_free is 4MiB");
  expect(alive()).toBe(true);
  expect(existsSync(join(agent.dir, "spool-corrupt"))).toBe(false);
  expect(spooled().length).toBe(1);

  await c.startAuth();
  const rows = await waitForRecordings(c, "alice", 2, 90_000); // small and big (the refused session has none)
  expect(alive()).toBe(true);
  const bigRec = rows.find((r) => r.state === "interrupted");
  expect(bigRec).toBeDefined();
  expect(bigRec!.bytes).toBeGreaterThan(16 * 1024 * 1024); // the two sealed 8 MiB parts and what was salvaged
  const events = await playEvents(c, bigRec!.session_id);
  expect(events.at(-1)).toMatchObject({ event: "session.end", interrupted: true });
  await waitFor(() => spooled().length === 0, 30_000, "the spool to empty");
  expect(existsSync(join(agent.dir, "spool-corrupt"))).toBe(false);

  // Room again: recorded sessions are accepted.
  expect((await c.ssh(agent, alice, "root", ["echo after"])).stdout).toBe("after\n");
  await waitForRecordings(c, "alice", 3);
  expect(await recordingsOf(c, "alice")).toHaveLength(3);
  // The refusal made while the disk was full and the auth service away reached the audit log.
  const rejected = JSON.parse(await c.ctlOk("events", "ls", "--type", "session.rejected", "--user", "alice", "--format", "json")) as { reason?: string }[];
  expect(rejected.some((e) => String(e.reason).includes("recording.min_free is 4MiB"))).toBe(true);
  expect(agent.proc.output()).not.toContain("moved aside");
}, 240_000);
