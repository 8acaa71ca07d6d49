// -L to a Unix socket for a login that is not root: the agent connects through a relay
// running as that user, so the kernel applies the user's uid and groups: their own 0600
// socket works, root's 0600 socket is refused with the reason, a 0660 socket works only
// through a group they are in; the relay process runs as them; port events as for root;
// at most 64 relays per connection.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { ensureTestAccount, ensureTestGroup, TEST_LOGIN } from "../helpers/os-account.ts";
import { freePort, run, startProc, waitFor, type Proc } from "../helpers/process.ts";

let c: TestCluster;
let agent: Agent;
let alice: SshUser;
let dir: string;
let uid: number;
let inGroup: number;
let tunnel: Proc;
const servers: { stop(force?: boolean): void }[] = [];
/** Connections each socket's server accepted: a refused forward must leave its count at 0. */
const accepted: Record<string, number> = {};
const ports: Record<string, number> = {};
const sock = (name: string) => join(dir, name === "user" ? "user/echo.sock" : `${name}.sock`);

interface Event { event: string; code: string; [k: string]: unknown }

/** An echo server on a Unix socket, owned by uid:gid with the mode given. */
function echoSocket(name: string, owner: number, group: number, mode: number): void {
  accepted[name] = 0;
  // Bun's socket.write may take part of a buffer: the rest waits for drain, in order.
  const pending = new Map<object, Buffer>();
  const flush = (s: import("bun").Socket) => {
    const buf = pending.get(s);
    if (!buf) return;
    const n = s.write(buf);
    if (n < buf.length) pending.set(s, buf.subarray(Math.max(n, 0)));
    else pending.delete(s);
  };
  servers.push(Bun.listen({
    unix: sock(name), socket: {
      open: () => void accepted[name]!++,
      data: (s, d) => {
        pending.set(s, Buffer.concat([pending.get(s) ?? Buffer.alloc(0), d]));
        flush(s);
      },
      drain: flush,
    },
  }));
  chownSync(sock(name), owner, group);
  chmodSync(sock(name), mode);
}

/** Sends `msg` through a forwarded port; resolves with what came back once `want` bytes did or the peer closed. */
function through(port: number, msg: string, want = msg.length, hold?: () => Promise<void>): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = "";
    let done = false;
    let sent = 0;
    const finish = () => void (done || ((done = true), resolve(got)));
    Bun.connect({
      hostname: "127.0.0.1", port, socket: {
        open: (s) => void (sent = s.write(msg)),
        drain: (s) => void (sent < msg.length && (sent += s.write(msg.slice(sent)))),
        data: (s, d) => {
          got += d.toString();
          if (got.length >= want) void (hold ? hold() : Promise.resolve()).then(() => (s.end(), finish()), reject);
        },
        close: finish, error: finish,
      },
    }).catch(reject);
  });
}

const events = async (): Promise<Event[]> =>
  JSON.parse(await c.ctlOk("events", "ls", "--type", "port", "--user", "alice", "--format", "json"));

beforeAll(async () => {
  await ensureTestAccount();
  uid = Number((await run(["id", "-u", TEST_LOGIN])).stdout.trim());
  const gid = Number((await run(["id", "-g", TEST_LOGIN])).stdout.trim());
  inGroup = await ensureTestGroup("hwsockin", true);
  const outGroup = await ensureTestGroup("hwsockout", false);
  dir = mkdtempSync("/tmp/hostward-sockfwd-");
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, "user"), { mode: 0o700 });
  chownSync(join(dir, "user"), uid, gid);
  echoSocket("user", uid, gid, 0o600);
  echoSocket("root", 0, 0, 0o600);
  echoSocket("group", 0, inGroup, 0o660);
  echoSocket("other", 0, outGroup, 0o660);
  c = new TestCluster();
  await c.startAuth();
  agent = await c.addAgent();
  await c.createRole("fwd", `[allow]\nlogins = ["${TEST_LOGIN}"]`);
  alice = await c.addUser("alice", ["fwd"]);
  await c.writeKnownHosts();
  const forwards: string[] = [];
  for (const name of ["user", "root", "group", "other"]) {
    ports[name] = await freePort();
    forwards.push("-L", `${ports[name]}:${sock(name)}`);
  }
  tunnel = startProc(c.sshArgs(agent, alice, TEST_LOGIN, ["-N", "-o", "ExitOnForwardFailure=yes", ...forwards]));
  await waitFor(async () => tunnel.proc.exitCode !== null || (await through(ports.user!, "up").catch(() => "")) === "up", 15_000, "the forward to work", 100);
  if (tunnel.proc.exitCode !== null) throw new Error(`ssh exited (${tunnel.proc.exitCode}): ${tunnel.output()}`);
}, 90_000);

afterAll(async () => {
  await tunnel?.stop("SIGKILL");
  for (const s of servers) s.stop(true);
  await c?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("the login's own 0600 socket: bytes both ways, and port events say local-socket with bytes", async () => {
  const big = "x".repeat(300_000);
  expect(await through(ports.user!, big)).toBe(big);
  let ev: Event[] = [];
  await waitFor(async () => (ev = await events()).some((e) => e.code === "T3003S" && Number(e.bytes_from_client) === big.length), 10_000, "the stop event", 100);
  const stop = ev.find((e) => e.code === "T3003S" && Number(e.bytes_from_client) === big.length)!;
  expect(stop).toMatchObject({ event: "port", login: TEST_LOGIN, forward_kind: "local-socket", source: "client", destination: sock("user"), bytes_to_client: big.length });
  expect(ev.find((e) => e.code === "T3003I" && e.fid === stop.fid)).toMatchObject({ forward_kind: "local-socket", destination: sock("user") });
}, 30_000);

test("root's 0600 socket is refused with the permission reason, never connected as root", async () => {
  expect(await through(ports.root!, "ping")).toBe("");
  await waitFor(() => tunnel.output().includes(`open failed: connect failed: Permission denied (${sock("root")})`), 10_000, "the client's open failure");
  let ev: Event[] = [];
  await waitFor(async () => (ev = await events()).some((e) => e.code === "T3003E"), 10_000, "the refusal event", 100);
  expect(ev.find((e) => e.code === "T3003E")).toMatchObject({ forward_kind: "local-socket", login: TEST_LOGIN, destination: sock("root"), reason: `Permission denied (${sock("root")})` });
  expect(accepted.root).toBe(0);
}, 30_000);

test("a 0660 socket works through a supplementary group the login is in, not through one it is not in", async () => {
  expect(await through(ports.other!, "ping")).toBe("");
  await waitFor(() => tunnel.output().includes(`Permission denied (${sock("other")})`), 10_000, "the client's open failure");
  expect(accepted.other).toBe(0);
  // While this forward is open, its relay is a process of the login user with the group.
  let status = "";
  let stat: string[] = [];
  let relayPid = "";
  let environ: string[] = [];
  const echoed = await through(ports.group!, "ping", 4, async () => {
    const pid = (await run(["pgrep", "-f", `internal unix-connect ${sock("group")}`])).stdout.trim();
    expect(pid).toMatch(/^\d+$/);
    status = readFileSync(`/proc/${pid}/status`, "utf8");
    stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    relayPid = pid;
    environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean).sort();
  });
  expect(echoed).toBe("ping");
  expect(status).toContain(`\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\n`);
  expect(status).toContain("\nCapEff:\t0000000000000000\n");
  // Its own session (field 6 of stat is the session id), no controlling terminal (tty_nr 0), a minimal environment.
  expect([stat[3], stat[4]]).toEqual([relayPid, "0"]);
  expect(environ).toEqual(["LANG=C", "PATH=/usr/bin:/bin"]);
  expect(status).toMatch(new RegExp(`\\nGroups:\\t([0-9 ]* )?${inGroup}( |\\n)`));
  expect(accepted.group).toBe(1);
}, 30_000);

test("at most 64 relays at once per SSH connection: the 65th is refused with the reason", async () => {
  // Every earlier forward has closed (its stop event is written after its relay is released).
  await waitFor(async () => {
    const ev = await events();
    return ev.filter((e) => e.code === "T3003I").length === ev.filter((e) => e.code === "T3003S").length;
  }, 10_000, "the earlier forwards to close", 100);
  const conns = await Promise.all(Array.from({ length: 65 }, () => {
    const st = { got: "", closed: false, socket: undefined as import("bun").Socket | undefined };
    return Bun.connect({
      hostname: "127.0.0.1", port: ports.user!, socket: {
        open: (s) => void ((st.socket = s), s.write("hi")),
        data: (_s, d) => void (st.got += d.toString()),
        close: () => void (st.closed = true),
      },
    }).then(() => st);
  }));
  try {
    await waitFor(() => conns.every((st) => st.got === "hi" || st.closed), 60_000, "every connection to be served or refused", 100);
    expect(conns.filter((st) => st.got === "hi").length).toBe(64);
    await waitFor(() => tunnel.output().includes("too many Unix-socket forwards on this connection (max=64)"), 10_000, "the client's open failure");
  } finally {
    for (const st of conns) st.socket?.end();
  }
}, 90_000);

test("no relay outlives its forward", async () => {
  await waitFor(async () => (await run(["pgrep", "-f", `internal unix-connect ${dir}`])).code === 1, 10_000, "the relays to exit");
});
