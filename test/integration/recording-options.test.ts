// Recording settings on the agent and in the inventory: exec sessions with binary
// output, hide_notice, record_stdin, min_free refusals, and `ctl sessions ls` showing
// whether a recording is complete.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/process.ts";
import { outputOf, playEvents, waitForRecordings } from "../helpers/recordings.ts";

const NOTICE = "hostward: this session is being recorded";

let c: TestCluster;
let plain: Agent;
let quiet: Agent;
let full: Agent;
let alice: SshUser;
let bob: SshUser;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  plain = await c.addAgent();
  quiet = await c.addAgent(`[recording]\nhide_notice = true\nrecord_stdin = true`);
  full = await c.addAgent(`[recording]\nmin_free = "1000TiB"`);
  await c.createRole("rec", `[allow]\nlogins = ["root"]`);
  await c.createRole("norec", `[options]\nrecord_session = { ssh = false }\n[allow]\nlogins = ["root"]`);
  alice = await c.addUser("alice", ["rec"]);
  bob = await c.addUser("bob", ["norec"]);
  await c.writeKnownHosts();
}, 90_000);

afterAll(() => c.close());

test("an exec session is recorded with its command and exact bytes, stdout and stderr", async () => {
  const r = await c.ssh(plain, alice, "root", ["printf 'a\\000b\\377c'; printf 'to-stderr' >&2"]);
  expect(r.stderr).toBe("to-stderr"); // recorded, but exec sessions get no notice by default
  const [rec] = await waitForRecordings(c, "alice", 1);
  expect(rec!.kind).toBe("exec");
  const events = await playEvents(c, rec!.session_id);
  expect(events.find((e) => e.event === "exec")).toMatchObject({ command: "printf 'a\\000b\\377c'; printf 'to-stderr' >&2" });
  const out = outputOf(events);
  expect(out.includes(Buffer.from([0x61, 0x00, 0x62, 0xff, 0x63]))).toBe(true);
  expect(out.toString("latin1")).toContain("to-stderr");
  const sessions = JSON.parse(await c.ctlOk("sessions", "ls", "--user", "alice", "--format", "json"));
  expect(sessions.find((s: { id: string }) => s.id === rec!.session_id)).toMatchObject({ recorded: true, recording: "complete" });
});

test("hide_notice: no notice line; record_stdin: input is recorded too", async () => {
  const r = await c.ssh(quiet, alice, "root", ["cat"], { stdin: "typed-input\n" });
  expect(r.stdout).toBe("typed-input\n");
  expect(r.stderr).not.toContain(NOTICE);
  const [rec] = await waitForRecordings(c, "alice", 2);
  const events = await playEvents(c, rec!.session_id);
  const stdin = events.filter((e) => e.event === "stdin");
  expect(stdin.length).toBeGreaterThan(0);
  expect(outputOf(stdin.map((e) => ({ ...e, event: "print" as const }))).toString()).toBe("typed-input\n");
});

test("input is not recorded by default", async () => {
  await c.ssh(plain, alice, "root", ["cat"], { stdin: "secret\n" });
  const [rec] = await waitForRecordings(c, "alice", 3);
  expect((await playEvents(c, rec!.session_id)).some((e) => e.event === "stdin")).toBe(false);
});

test("below recording.min_free, recorded sessions are refused with the reason; unrecorded ones go on", async () => {
  const r = await c.ssh(full, alice, "root", ["echo should-not-run"]);
  expect(r.stdout).toBe("");
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/this session must be recorded but the node has only .* free for recordings \(recording\.min_free is 1000TiB\); refusing new recorded sessions/);
  const ok = await c.ssh(full, bob, "root", ["echo unrecorded"]);
  expect(ok.stdout).toBe("unrecorded\n");
  const sessions = JSON.parse(await c.ctlOk("sessions", "ls", "--user", "bob", "--format", "json"));
  expect(sessions[0]).toMatchObject({ recorded: false, recording: "" });
  await waitFor(async () => (await c.ctl("recordings", "ls", "--user", "alice", "--format", "json")).stdout.includes("uploading") === false, 5_000, "no upload in progress");
});
