// Many idle interactive sessions at once: each PTY is read through the event loop, so no
// idle shell holds a thread and the next session still gets its prompt and echo. (A
// blocking PTY reader stalled the third or fourth session on Bun's small thread pool.)
import { afterAll, beforeAll, expect, test } from "bun:test";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { openLiveSession, type LiveSession } from "../helpers/live-session.ts";

const IDLE = 12;
let c: TestCluster;
let agent: Agent;
let alice: SshUser;
const sessions: LiveSession[] = [];

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  await c.createRole("ssh", `[allow]\nlogins = ["root"]\n[options.record_session]\nssh = false`);
  alice = await c.addUser("alice", ["ssh"]);
  agent = await c.addAgent();
  await c.writeKnownHosts();
});

afterAll(async () => {
  for (const s of sessions) await s.proc.stop("SIGKILL");
  await c.close();
});

test(`${IDLE} idle PTY sessions, then every one of them and a new one still echo`, async () => {
  for (let i = 0; i < IDLE; i++) sessions.push(await openLiveSession(c.sshArgs(agent, alice, "root", ["-tt"])));
  for (const [i, s] of sessions.entries()) {
    s.send(`echo ALIVE-${i}-$((i*0+${i}*2))`);
    await s.proc.waitForOutput(new RegExp(`ALIVE-${i}-${i * 2}`), 15_000);
  }
  const last = await openLiveSession(c.sshArgs(agent, alice, "root", ["-tt"]));
  sessions.push(last);
  expect(last.alive()).toBe(true);
}, 180_000);
