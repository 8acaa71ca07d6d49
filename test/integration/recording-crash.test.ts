// node mode survives an agent crash: kill -9 mid-session, restart, and the recording is
// uploaded, marked interrupted, with everything that reached the spool before the kill.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { salvageLines } from "../../src/recording/format/part-codec.ts";
import { walkEvents } from "../../src/recording/format/event-stream.ts";
import type { RecordingEvent } from "../../src/recording/format/recording-event.ts";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { openLiveSession } from "../helpers/live-session.ts";
import { waitFor } from "../helpers/process.ts";
import { outputOf, playEvents, waitForRecordings } from "../helpers/recordings.ts";

let c: TestCluster;
let agent: Agent;
let alice: SshUser;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  agent = await c.addAgent();
  await c.createRole("rec", `[allow]\nlogins = ["root"]`);
  alice = await c.addUser("alice", ["rec"]);
  await c.writeKnownHosts();
}, 60_000);

afterAll(() => c.close());

/** The output bytes found so far in the spool's part being written. */
function spooledOutput(dir: string): string {
  const spool = join(dir, "spool");
  if (!existsSync(spool)) return "";
  let out = "";
  for (const sid of readdirSync(spool)) {
    for (const f of readdirSync(join(spool, sid)).filter((f) => f.startsWith("part-"))) {
      const events: RecordingEvent[] = [];
      walkEvents(salvageLines(readFileSync(join(spool, sid, f))).bytes, { attach: true, visit: (e) => void events.push(e) });
      out += new TextDecoder().decode(outputOf(events));
    }
  }
  return out;
}

test("kill -9 the agent mid-session: after a restart the recording is uploaded as interrupted", async () => {
  const s = await openLiveSession(c.sshArgs(agent, alice, "root", ["-tt"]));
  s.send("echo BEFORE-CRASH-$((40+2))");
  await s.proc.waitForOutput(/BEFORE-CRASH-42/);
  // It has reached the spool (fsynced within a second of being written).
  await waitFor(() => spooledOutput(agent.dir).includes("BEFORE-CRASH-42"), 10_000, "the marker in the spool", 100);
  await agent.stop("SIGKILL");
  await s.ended(15_000);
  await agent.start();
  const [rec] = await waitForRecordings(c, "alice", 1);
  expect(rec!.state).toBe("interrupted");
  const events = await playEvents(c, rec!.session_id);
  expect(new TextDecoder().decode(outputOf(events))).toContain("BEFORE-CRASH-42");
  const end = events.at(-1)!;
  expect(end.event).toBe("session.end");
  expect((end as { interrupted?: boolean }).interrupted).toBe(true);
  expect(readdirSync(join(agent.dir, "spool"))).toEqual([]);
  const uploads = JSON.parse(await c.ctlOk("events", "ls", "--type", "session.upload", "--format", "json"));
  expect(uploads[0]).toMatchObject({ code: "T2005I", sid: rec!.session_id, interrupted: true });
}, 90_000);
