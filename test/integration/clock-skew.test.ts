// Agents whose clock is 10 minutes ahead of or behind the auth service's, under Debian's
// libfaketime (LD_PRELOAD into the compiled binary): locks hold on the auth service's
// time, the agent stays connected and signs on that time, certificates signed a moment
// ago are accepted, events sort where they happened, and the offset is exposed (17.3).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/process.ts";

const LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
const skewed = (offset: string) => ({ LD_PRELOAD: LIBFAKETIME, FAKETIME: offset, FAKETIME_DONT_FAKE_MONOTONIC: "1", FAKETIME_NO_CACHE: "1" });

let c: TestCluster;
let ahead: Agent;
let behind: Agent;
let limited: SshUser; // max_connections: every login takes a lease from the auth service
let free: SshUser;

beforeAll(async () => {
  expect(existsSync(LIBFAKETIME)).toBe(true); // Debian's faketime package (.ci/run installs it)
  c = new TestCluster();
  await c.startAuth();
  const cfg = join(c.dir, "cluster.toml");
  writeFileSync(cfg, `kind = "cluster_config"\nsession_recording = "off"\nlocking_mode = "strict"\nlock_max_staleness = "30s"\n`);
  await c.ctlOk("create", "-f", cfg);
  await c.createRole("limited", `[options]\nmax_connections = 5\n[allow]\nlogins = ["root"]`);
  await c.createRole("free", `[allow]\nlogins = ["root"]`);
  limited = await c.addUser("limited", ["limited"]);
  free = await c.addUser("free", ["free"]);
  ahead = await c.addAgent("", "", skewed("+10m"));
  behind = await c.addAgent("", "", skewed("-10m"));
  await c.writeKnownHosts();
}, 90_000);

afterAll(() => c.close());

async function metric(agent: Agent, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${agent.diagPort}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
}

test("libfaketime moves the compiled binary's clock", async () => {
  // The agent's own view of its offset is the proof that its clock is moved: it is
  // measured against the auth service, which runs on the real clock.
  expect(await metric(ahead, "hostward_agent_clock_offset_seconds")).toBeGreaterThan(590);
  expect(await metric(ahead, "hostward_agent_clock_offset_seconds")).toBeLessThan(610);
  expect(await metric(behind, "hostward_agent_clock_offset_seconds")).toBeLessThan(-590);
  expect(await metric(behind, "hostward_agent_clock_offset_seconds")).toBeGreaterThan(-610);
  expect(ahead.proc.output()).toMatch(/this node's clock is 60\d s ahead of the auth service|this node's clock is 59\d s ahead of the auth service/);
  expect(behind.proc.output()).toMatch(/this node's clock is (59\d|60\d) s behind the auth service/);
});

for (const which of ["ahead", "behind"] as const) {
  test(`10 minutes ${which}: connected, ready (degraded), a 5m lock holds, fresh certificates and limited logins work`, async () => {
    const agent = which === "ahead" ? ahead : behind;
    const ready = await fetch(`http://127.0.0.1:${agent.diagPort}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.text()).toMatch(new RegExp(`degraded: clock is (59\\d|60\\d) s ${which === "ahead" ? "ahead of" : "behind"} the auth service`));
    // Heard by the auth service: heartbeats accepted (online), leases granted.
    const nodes = JSON.parse(await c.ctlOk("nodes", "ls", "--format", "json")) as { server_id: string; state: string }[];
    expect(nodes.find((n) => n.server_id === agent.serverId())?.state).toBe("online");
    // A certificate signed just now (valid from one minute ago on the auth service's clock).
    const fresh = await c.addUser(`fresh-${which}`, ["limited"]);
    expect((await c.ssh(agent, fresh, "root", ["echo in"])).stdout).toBe("in\n");
    expect((await c.ssh(agent, limited, "root", ["echo in"])).stdout).toBe("in\n");

    const target = await c.addUser(`target-${which}`, ["free"]);
    await c.ctlOk("lock", "--user", target.name, "--ttl", "5m", "--message", `five minutes ${which}`);
    await waitFor(async () => (await c.ssh(agent, target, "root", ["true"])).stderr.includes(`five minutes ${which}`), 30_000, "the 5m lock to hold on the skewed agent");
    expect((await c.ssh(agent, free, "root", ["echo in"])).stdout).toBe("in\n");

    // Its refusal event sorts at the real time, not 10 minutes away.
    const events = JSON.parse(await c.ctlOk("events", "ls", "--type", "session.rejected", "--user", target.name, "--format", "json")) as { time: string; server_id: string }[];
    const mine = events.filter((e) => e.server_id === agent.serverId());
    expect(mine.length).toBeGreaterThan(0);
    for (const e of mine) expect(Math.abs(Date.parse(e.time) - Date.now())).toBeLessThan(60_000);
  }, 120_000);
}
