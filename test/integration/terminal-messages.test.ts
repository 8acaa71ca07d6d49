// What a person sees when the agent ends their session: `hostward: <reason>` on the
// terminal (PTY: CR LF framed on the channel) or as the first stderr line (exec), for a
// lock, max_session_ttl, a lost lease and a stale strict view; and the recording notice
// on interactive sessions only (by default), never on `ssh node true`.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { openLiveSession } from "../helpers/live-session.ts";
import { run, waitFor } from "../helpers/process.ts";

const NOTICE = "hostward: this session is being recorded";

let c: TestCluster;
let a1: Agent; // recording.notice default (interactive)
let a2: Agent; // recording.notice = "always"
const users: Record<string, SshUser> = {};

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  [a1, a2] = [await c.addAgent(), await c.addAgent(`[recording]\nnotice = "always"`)];
  await c.createRole("plain", `[allow]\nlogins = ["root"]`);
  await c.createRole("short", `[options]\nmax_session_ttl = "3s"\n[allow]\nlogins = ["root"]`);
  await c.createRole("leased", `[options]\nmax_connections = 5\n[allow]\nlogins = ["root"]`);
  await c.createRole("careful", `[options]\nlock = "strict"\n[allow]\nlogins = ["root"]`);
  for (const u of ["lockpty", "lockexec", "quiet"]) users[u] = await c.addUser(u, ["plain"]);
  users.shorty = await c.addUser("shorty", ["short"]);
  // The role caps the certificate at 3s too; sign one that outlives the session.
  const signed = await run(["ssh-keygen", "-q", "-s", join(c.dir, "auth", "ssh", "user_ca"), "-I", "shorty", "-n", "root", "-V", "-5m:+1h", "-O", "permit-pty", users.shorty.key + ".pub"]);
  expect(signed.code).toBe(0);
  users.leasy = await c.addUser("leasy", ["leased"]);
  users.strict = await c.addUser("strict", ["careful"]);
  await c.writeKnownHosts();
}, 90_000);

afterAll(() => c.close());

/** An exec session that has started (printed "started"), with stdout and stderr apart. */
async function execSession(agent: Agent, user: SshUser) {
  const proc = Bun.spawn([...c.sshArgs(agent, user, "root"), "echo started; sleep 120"], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let out = "";
  let err = "";
  void (async () => { for await (const d of proc.stdout) out += new TextDecoder().decode(d); })();
  const errDone = (async () => { for await (const d of proc.stderr) err += new TextDecoder().decode(d); })();
  await waitFor(() => out.includes("started") || proc.exitCode !== null, 15_000, "the exec session to start");
  expect(out).toBe("started\n");
  return {
    async stderrAtExit() {
      await Promise.race([proc.exited, Bun.sleep(30_000)]);
      await errDone;
      return err;
    },
  };
}

async function ptyCut(user: SshUser, cut: () => Promise<unknown>): Promise<string> {
  const s = await openLiveSession(c.sshArgs(a1, user, "root", ["-tt"]));
  await cut();
  await s.ended(15_000);
  return s.proc.output();
}

test("a lock: PTY gets the line framed by CR LF on the terminal", async () => {
  const out = await ptyCut(users.lockpty!, () => c.ctlOk("lock", "--user", "lockpty", "--message", "Go home."));
  expect(out).toContain('\r\nhostward: lock targeting User:"lockpty" is in force: Go home.\r\n');
});

test("a lock: exec gets it as the first stderr line, no blank line before", async () => {
  const s = await execSession(a1, users.lockexec!);
  await c.ctlOk("lock", "--user", "lockexec", "--message", "Go home.");
  const err = await s.stderrAtExit();
  expect(err.slice(0, 80)).toBe(`hostward: lock targeting User:"lockexec" is in force: Go home.\n`.slice(0, 80));
});

test("max_session_ttl: PTY and exec", async () => {
  const ttl = "hostward: session closed: it reached its maximum age of 3s (max_session_ttl)";
  // No handshake with the session first: under load it may take a good part of the 3 s to start.
  const pty = await c.ssh(a1, users.shorty!, "root", ["sleep 60"], { extra: ["-tt"] });
  expect(pty.stdout).toContain(`\r\n${ttl}\r\n`);
  const exec = await c.ssh(a1, users.shorty!, "root", ["sleep 60"]);
  expect(exec.stderr.startsWith(`${ttl}\n`)).toBe(true);
}, 60_000);

test("a lost lease (removed with ctl semaphores rm): exec", async () => {
  // A short lease TTL, so the agent learns at its next renewal (TTL/2) that the lease is gone.
  const f = join(c.dir, "cluster-lease.toml");
  writeFileSync(f, `kind = "cluster_config"\nsession_control_timeout = "4s"\n`);
  await c.ctlOk("create", "-f", f);
  const s = await execSession(a1, users.leasy!);
  await c.ctlOk("semaphores", "rm", "connection/leasy");
  const err = await s.stderrAtExit();
  expect(err).toMatch(/^hostward: connection closed: the session control lease for user "leasy" was removed\n/);
}, 60_000);

test("recording notice: not on `ssh node true`, on a PTY; always on an agent with notice = always", async () => {
  const quiet = await c.ssh(a1, users.quiet!, "root", ["true"]);
  expect({ code: quiet.code, stderr: quiet.stderr }).toEqual({ code: 0, stderr: "" });
  const ev = JSON.parse(await c.ctlOk("events", "ls", "--type", "session.start", "--user", "quiet", "--format", "json"));
  expect(ev[0].recorded).toBe(true);
  const pty = await c.ssh(a1, users.quiet!, "root", ["echo hi"], { extra: ["-tt"] });
  expect(pty.stdout.startsWith(NOTICE + "\r\n")).toBe(true);
  const always = await c.ssh(a2, users.quiet!, "root", ["true"]);
  expect(always.stderr).toBe(NOTICE + "\r\n");
});

test("a stale view cuts a strict PTY session with the reason on its terminal", async () => {
  const f = join(c.dir, "cluster.toml");
  writeFileSync(f, `kind = "cluster_config"\nlock_max_staleness = "3s"\n`);
  await c.ctlOk("create", "-f", f);
  await waitFor(async () => (await fetch(`http://127.0.0.1:${a1.diagPort}/readyz`)).ok, 10_000, "agent ready");
  const out = await ptyCut(users.strict!, () => c.stopAuth());
  expect(out).toContain("\r\nhostward: preventive lock-out: lock view is stale (last synced ");
}, 60_000);
