// The session inventory and the audit log end to end: events an
// agent emits while cut off from the auth service arrive after it reconnects, each
// exactly once (also across an agent restart); ctl sessions ls shows active,
// completed, rejected and lost sessions; ctl events ls pages newest first; /metrics.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { openLiveSession } from "../helpers/live-session.ts";
import { nodeApi } from "../helpers/node-api.ts";
import { waitFor } from "../helpers/process.ts";

let c: TestCluster;
let a1: Agent;
let a2: Agent;
let dave: SshUser; // no limits
let erin: SshUser; // max_connections = 1

interface Row { [k: string]: unknown }

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  [a1, a2] = [await c.addAgent(), await c.addAgent()];
  await c.createRole("free", `[allow]\nlogins = ["root"]`);
  await c.createRole("single", `[options]\nmax_connections = 1\n[allow]\nlogins = ["root"]`);
  dave = await c.addUser("dave", ["free"]);
  erin = await c.addUser("erin", ["single"]);
  await c.writeKnownHosts();
}, 60_000);

afterAll(() => c.close());

const json = async (...args: string[]): Promise<Row[]> => JSON.parse(await c.ctlOk(...args, "--format", "json"));
const metrics = async (port: number): Promise<string> => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
const gauge = (text: string, series: string): number => Number(text.split("\n").find((l) => l.startsWith(series + " "))?.split(" ")[1] ?? NaN);

describe("audit events through an outage", () => {
  test("events from an agent cut off from the auth service (and restarted meanwhile) arrive after, each exactly once", async () => {
    const before = new Set((await json("events", "ls", "--type", "session.start", "--user", "dave", "--limit", "1000")).map((e) => e.sid));
    await c.stopAuth();
    const echoes: string[] = [];
    try {
      for (let i = 0; i < 4; i++) echoes.push((await c.ssh(a1, dave, "root", [`echo before-${i}`])).stdout);
      await a1.restart(); // the outbox is on disk: a restart loses nothing
      for (let i = 0; i < 3; i++) echoes.push((await c.ssh(a1, dave, "root", [`echo after-${i}`])).stdout);
      expect(echoes).toEqual([0, 1, 2, 3].map((i) => `before-${i}\n`).concat([0, 1, 2].map((i) => `after-${i}\n`)));
      expect(gauge(await metrics(a1.diagPort), "hostward_agent_outbox_depth")).toBeGreaterThanOrEqual(7 * 3);
    } finally {
      await c.startAuth();
    }
    const fresh = async (type: string) => (await json("events", "ls", "--type", type, "--user", "dave", "--limit", "1000")).filter((e) => !before.has(e.sid));
    await waitFor(async () => (await fresh("session.end")).length >= 7, 20_000, "the outbox to drain into the auth service", 200);
    await waitFor(async () => gauge(await metrics(a1.diagPort), "hostward_agent_outbox_depth") === 0, 10_000, "outbox empty");
    for (const type of ["session.start", "exec", "session.end"]) {
      const got = await fresh(type);
      const sids = got.map((e) => e.sid as string);
      expect(sids).toHaveLength(7);
      expect(new Set(sids).size).toBe(7);
      expect(new Set(got.map((e) => e.uid)).size).toBe(7);
      for (const e of got) expect(e).toMatchObject({ server_id: a1.serverId(), user: "dave", login: "root", proto: "ssh" });
    }
    // A redelivery (the agent died after sending, before deleting) changes nothing.
    const again = (await fresh("session.start")).map(({ seq: _s, ...e }) => e);
    const res = await nodeApi(a1, c.authAddr).request<{ received: number; stored: number }>("POST", "/v1/events", { events: again });
    expect(res).toEqual({ received: 7, stored: 0 });
    expect(await fresh("session.start")).toHaveLength(7);
    const inventory = (await json("sessions", "ls", "--user", "dave", "--node", a1.serverId(), "--state", "completed", "--limit", "1000")).filter((s) => !before.has(s.id));
    expect(inventory).toHaveLength(7);
  }, 90_000);

  test("a huge command is cut to fit its exec event, so it cannot block the outbox", async () => {
    const huge = "x".repeat(20_000); // over the auth service's 16 KiB per event, under ssh2's packet limit
    const r = await c.ssh(a1, dave, "root", [`true ${huge}`]);
    expect(r.code).toBe(0);
    await waitFor(async () => (await json("events", "ls", "--type", "exec", "--user", "dave", "--limit", "5")).some((e) => e.command_truncated === true), 5_000, "truncated exec event", 100);
  });
});

describe("session inventory", () => {
  test("ctl sessions ls: active, completed and rejected rows with every column, and the filters", async () => {
    const live = await openLiveSession(c.sshArgs(a2, erin, "root", ["-tt"]));
    const refused = await c.ssh(a1, erin, "root", ["true"]);
    expect(refused.stderr).toContain('too many concurrent ssh connections for user "erin" (max=1)');
    expect((await c.ssh(a1, dave, "hwtest-not-allowed", ["true"])).code).toBe(255);
    let active: Row | undefined;
    await waitFor(async () => !!(active = (await json("sessions", "ls", "--state", "active", "--user", "erin"))[0]), 5_000, "active session in the inventory", 100);
    expect(active).toMatchObject({ state: "active", user: "erin", login: "root", node: a2.serverId(), kind: "shell", end: "", reason: "" });
    expect(Object.keys(active!)).toEqual(expect.arrayContaining(["id", "state", "user", "login", "node", "start", "end", "duration", "recorded", "reason"]));
    expect(typeof active!.recorded).toBe("boolean");
    let rejected: Row[] = [];
    await waitFor(async () => (rejected = await json("sessions", "ls", "--state", "rejected", "--since", "1m")).length >= 2, 5_000, "rejections in the inventory", 100);
    expect(rejected.find((r) => r.user === "erin")).toMatchObject({ reason: 'too many concurrent ssh connections for user "erin" (max=1)', node: a1.serverId() });
    expect(String(rejected.find((r) => r.login === "hwtest-not-allowed")?.reason)).toContain("hwtest-not-allowed");
    live.send("exit");
    await live.ended(5_000);
    let done: Row | undefined;
    await waitFor(async () => (done = (await json("sessions", "ls", "--user", "erin", "--login", "root", "--node", a2.serverId())).find((s) => s.id === active!.id))?.state === "completed", 5_000, "session completed", 100);
    expect(done!.end).not.toBe("");
    expect(done!.duration).toMatch(/^\d+(h|m|s)/);
    expect(await json("sessions", "ls", "--state", "active", "--user", "erin")).toEqual([]);
    const table = await c.ctlOk("sessions", "ls", "--user", "erin");
    expect(table.split("\n")[0]).toMatch(/^ID\s+State\s+User\s+Login\s+Node\s+Kind\s+Start\s+End\s+Duration\s+Recorded\s+.*Reason$/);
    const bad = await c.ctl("sessions", "ls", "--state", "running");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("state: expected one of active, completed, rejected, lost");
  });

  test("a session whose agent was killed shows as lost: at once when the agent restarts, or once its node goes offline", async () => {
    const onA2 = await openLiveSession(c.sshArgs(a2, dave, "root", ["-tt"]));
    const onA1 = await openLiveSession(c.sshArgs(a1, dave, "root", ["-tt"]));
    const activeOn = async (agent: Agent) => (await json("sessions", "ls", "--state", "active", "--user", "dave", "--node", agent.serverId()))[0];
    await waitFor(async () => !!(await activeOn(a2)) && !!(await activeOn(a1)), 5_000, "both sessions active", 100);
    const [s2, s1] = [await activeOn(a2), await activeOn(a1)];
    await a2.stop("SIGKILL");
    await a1.stop("SIGKILL");
    await onA2.ended(5_000);
    await onA1.ended(5_000);
    await a2.start();
    const lost = (await json("sessions", "ls", "--state", "lost", "--user", "dave")).find((s) => s.id === s2!.id);
    expect(lost).toMatchObject({ state: "lost", reason: "the agent restarted before reporting the end" });
    // a1 stays down: its session shows lost once the node counts as offline (three missed heartbeats).
    await waitFor(async () => (await json("sessions", "ls", "--state", "lost", "--node", a1.serverId())).some((s) => s.id === s1!.id), 45_000, "a1's session shown lost", 1_000);
    const shown = (await json("sessions", "ls", "--node", a1.serverId())).find((s) => s.id === s1!.id);
    expect(String(shown!.reason)).toMatch(/^node offline since \d{4}-/);
    await a1.start();
  }, 90_000);
});

describe("ctl events ls", () => {
  test("newest first, a page at a time with --before", async () => {
    // Let what the agents still hold arrive first: a late event sorts by its own (older)
    // time, into the middle of the pages being compared.
    await waitFor(async () => {
      for (const a of [a1, a2]) if (gauge(await metrics(a.diagPort), "hostward_agent_outbox_depth") !== 0) return false;
      return (await json("recordings", "ls")).every((r) => r.state !== "uploading");
    }, 30_000, "the agents' outboxes to empty and recordings to finish", 200);
    const p1 = await json("events", "ls", "--limit", "3");
    const p2 = await json("events", "ls", "--limit", "3", "--before", String(p1.at(-1)!.seq));
    // Read last: events still arriving (a late session.end) only add to the newest end.
    const all = await json("events", "ls", "--limit", "1000");
    expect(all.length).toBeGreaterThan(6);
    const first = all.findIndex((e) => e.uid === p1[0]!.uid);
    expect(first).toBeGreaterThanOrEqual(0);
    expect([...p1, ...p2].map((e) => e.uid)).toEqual(all.slice(first, first + 6).map((e) => e.uid));
    const times = all.map((e) => Date.parse(e.time as string));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    // The table says where the next page starts: after its own last row (compared with the
    // rows it printed, since a late event sorted by its older time may have joined the newest three).
    const table = await c.ctl("events", "ls", "--limit", "3");
    const printed = table.stdout.trim().split("\n").slice(2).map((l) => Number(l.trim().split(/\s+/)[0]));
    expect(printed).toHaveLength(3);
    expect(table.stderr.trim()).toBe(`more: --before ${printed.at(-1)}`);
    const bad = await c.ctl("events", "ls", "--before", "yesterday");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("before: expected an event seq");
  });
});

describe("metrics", () => {
  test("agent and auth /metrics: connections, sessions, leases, rejections by reason, outbox depth, lock-view age", async () => {
    const live = await openLiveSession(c.sshArgs(a1, erin, "root", ["-tt"]));
    expect((await c.ssh(a2, erin, "root", ["true"])).code).toBe(255);
    const agent = await metrics(a1.diagPort);
    expect(gauge(agent, "hostward_agent_connections")).toBeGreaterThanOrEqual(1);
    expect(gauge(agent, "hostward_agent_sessions")).toBeGreaterThanOrEqual(1);
    expect(gauge(agent, "hostward_agent_leases")).toBe(1);
    expect(gauge(agent, "hostward_agent_outbox_depth")).toBeGreaterThanOrEqual(0);
    expect(gauge(agent, "hostward_agent_lock_view_age_seconds")).toBeGreaterThanOrEqual(0);
    expect(gauge(await metrics(a2.diagPort), 'hostward_agent_rejections_total{reason="max_connections"}')).toBeGreaterThanOrEqual(1);
    await waitFor(async () => gauge(await metrics(c.authDiagPort), 'hostward_auth_rejections{reason="max_connections"}') >= 1, 5_000, "auth rejection metric", 100);
    const auth = await metrics(c.authDiagPort);
    expect(gauge(auth, "hostward_auth_semaphore_leases")).toBe(1);
    expect(gauge(auth, 'hostward_auth_sessions{state="active"}')).toBeGreaterThanOrEqual(1);
    live.send("exit");
    await live.ended(5_000);
    await waitFor(async () => gauge(await metrics(c.authDiagPort), "hostward_auth_semaphore_leases") === 0, 5_000, "lease released", 100);
  });
});
