// Locks through faults: the auth service goes away (best_effort keeps the last
// known locks, strict is cut at lock_max_staleness and comes back with the sync),
// the agent restarts during the outage, and a lock made while an agent was away.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { openLiveSession } from "../helpers/live-session.ts";
import { waitFor } from "../helpers/process.ts";

const STALENESS_MS = 3_000;
let c: TestCluster;
let agent: Agent;
let relaxed: SshUser; // best_effort
let careful: SshUser; // strict
let locked: SshUser;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  const cfg = join(c.dir, "cluster.toml");
  writeFileSync(cfg, `kind = "cluster_config"\nsession_recording = "off"\nlocking_mode = "best_effort"\nlock_max_staleness = "${STALENESS_MS / 1000}s"\n`);
  await c.ctlOk("create", "-f", cfg);
  agent = await c.addAgent();
  await c.createRole("relaxed", `[allow]\nlogins = ["root"]`);
  await c.createRole("careful", `[options]\nlock = "strict"\n[allow]\nlogins = ["root"]`);
  relaxed = await c.addUser("relaxed", ["relaxed"]);
  careful = await c.addUser("careful", ["careful", "relaxed"]); // one strict role makes the connection strict
  locked = await c.addUser("locked", ["relaxed"]);
  await c.writeKnownHosts();
  await c.ctlOk("lock", "--user", "locked", "--message", "Before the outage.");
  await waitFor(async () => (await c.ssh(agent, locked, "root", ["true"])).stderr.includes("Before the outage."), 5_000, "lock to reach the agent");
}, 60_000);

afterAll(() => c.close());

const loginWorks = async (u: SshUser) => (await c.ssh(agent, u, "root", ["echo in"])).stdout === "in\n";

test("auth outage: best_effort continues on cached locks, strict is cut at the staleness deadline", async () => {
  const best = await openLiveSession(c.sshArgs(agent, relaxed, "root", ["-tt"]));
  const strict = await openLiveSession(c.sshArgs(agent, careful, "root", ["-tt"]));
  await c.stopAuth();
  const stoppedAt = Date.now();
  expect(await strict.ended(STALENESS_MS + 6_000)).toBe(255);
  const cutAfter = Date.now() - stoppedAt;
  // The view was last synced at most one feed ping (2 s) before the stop; the cut
  // must come within a second of the deadline, not at the next reconnect attempt.
  expect(cutAfter).toBeLessThan(STALENESS_MS + 1_500);
  expect(strict.proc.output()).toMatch(/preventive lock-out: lock view is stale \(last synced \d{4}-\d\d-\d\dT/);
  best.send("echo ALIVE-$((2+3))");
  await best.proc.waitForOutput(/ALIVE-5/);
  expect(await loginWorks(relaxed)).toBe(true);
  const refused = await c.ssh(agent, careful, "root", ["true"]);
  expect(refused.stderr).toContain("preventive lock-out: lock view is stale");
  const stillLocked = await c.ssh(agent, locked, "root", ["true"]);
  expect(stillLocked.stderr).toContain('lock targeting User:"locked" is in force: Before the outage.');
  best.send("exit");
  await best.ended(5_000);
});

test("an agent restarted during the outage enforces the cached locks and keeps the staleness clock", async () => {
  await agent.restart({ ready: false }); // a stale view is not ready, by design
  const ready = await fetch(`http://127.0.0.1:${agent.diagPort}/readyz`);
  expect(ready.status).toBe(503);
  expect(await ready.text()).toContain("lock view is stale");
  expect(await loginWorks(relaxed)).toBe(true);
  expect((await c.ssh(agent, careful, "root", ["true"])).stderr).toContain("preventive lock-out");
  expect((await c.ssh(agent, locked, "root", ["true"])).stderr).toContain("Before the outage.");
});

test("strict access comes back when the auth service does", async () => {
  await c.startAuth();
  await waitFor(() => loginWorks(careful), 15_000, "strict login after the auth service returned");
});

test("a lock made while an agent was away holds from its first connection after it returns", async () => {
  await agent.stop();
  await c.ctlOk("lock", "--user", "relaxed", "--message", "While you were out.");
  await agent.start();
  const r = await c.ssh(agent, relaxed, "root", ["true"]);
  expect(r.code).toBe(255);
  expect(r.stderr).toContain("While you were out.");
});
