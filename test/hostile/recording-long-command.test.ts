// A session cannot keep itself out of storage with a long command: the recording is
// stored and listed, the command cut to 4096 characters and marked command_truncated.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { playEvents, waitForRecordings } from "../helpers/recordings.ts";

let c: TestCluster;
let agent: Agent;
let ned: SshUser;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  agent = await c.addAgent();
  await c.writeKnownHosts();
  await c.createRole("ssh", `[allow]\nlogins = ["root"]`);
  ned = await c.addUser("ned", ["ssh"]);
}, 60_000);

afterAll(() => c.close());

test("ssh node ': xxxx…(5000); echo SECRET' is recorded, listed and played back", async () => {
  const command = `: ${"x".repeat(5000)}; echo SECRET_ACTIVITY`;
  const r = await c.ssh(agent, ned, "root", [command]);
  expect(r.stdout).toBe("SECRET_ACTIVITY\n");
  const [row] = await waitForRecordings(c, "ned", 1, 60_000) as (Awaited<ReturnType<typeof waitForRecordings>>[number] & { command: string; command_truncated?: boolean })[];
  expect(row!.state).toBe("complete");
  expect(row!.command_truncated).toBe(true);
  expect(row!.command).toBe(command.slice(0, 4096));
  // The recording itself holds the whole command and the output.
  const events = await playEvents(c, row!.session_id);
  expect(JSON.stringify(events)).toContain("SECRET_ACTIVITY");
}, 90_000);
