// Forwarding with the system OpenSSH client: -L to a local HTTP server, -R back, -D
// through curl's SOCKS, -J through one node to another, -A with ssh-add on the node;
// refusals by role and by certificate with the reason the client prints; a lock
// cutting a live forward; port events with bytes; forwards not counted as sessions.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { ensureTestAccount, TEST_LOGIN } from "../helpers/os-account.ts";
import { freePort, run, startProc, waitFor, type Proc } from "../helpers/process.ts";

let c: TestCluster;
let a1: Agent;
let a2: Agent;
let alice: SshUser; // default forwarding
let bob: SshUser; // a role that forbids all forwarding
let carol: SshUser; // roles allow, certificate without permit-* extensions
let erin: SshUser; // cut by a lock
let frank: SshUser; // max_sessions = 1
let http: ReturnType<typeof Bun.serve>;
let agentSock: string;
let agentPid: number;
const procs: Proc[] = [];

interface Event { event: string; code: string; [k: string]: unknown }

beforeAll(async () => {
  await ensureTestAccount();
  http = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => new Response(`hello from ${new URL(req.url).pathname}`) });
  c = new TestCluster();
  await c.startAuth();
  [a1, a2] = [await c.addAgent(), await c.addAgent()];
  await c.createRole("fwd", `[allow]\nlogins = ["root", "${TEST_LOGIN}"]`);
  await c.createRole("locked-down", `[options]\nport_forwarding = { local = false, remote = false }\nforward_agent = false\n[allow]\nlogins = ["root"]`);
  await c.createRole("one-session", `[options]\nmax_sessions = 1\n[allow]\nlogins = ["root"]`);
  alice = await c.addUser("alice", ["fwd"]);
  bob = await c.addUser("bob", ["fwd", "locked-down"]);
  carol = await c.addUser("carol", ["fwd"]);
  const signed = await run(["ssh-keygen", "-q", "-s", join(c.dir, "auth", "ssh", "user_ca"), "-I", "carol", "-n", "root", "-V", "-5m:+1h", "-O", "clear", "-O", "permit-pty", carol.key + ".pub"]);
  expect(signed.code).toBe(0);
  erin = await c.addUser("erin", ["fwd"]);
  frank = await c.addUser("frank", ["one-session"]);
  await c.writeKnownHosts();
  // An ssh-agent holding alice's key, for -A.
  agentSock = join(c.dir, "ssh-agent.sock");
  const started = await run(["ssh-agent", "-a", agentSock, "-s"]);
  agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(started.stdout)?.[1]);
  expect(agentPid).toBeGreaterThan(0);
  expect((await run(["ssh-add", alice.key], { env: { SSH_AUTH_SOCK: agentSock } })).code).toBe(0);
}, 90_000);

afterAll(async () => {
  for (const p of procs) await p.stop("SIGKILL");
  if (agentPid) process.kill(agentPid);
  http?.stop(true);
  await c.close();
});

const events = async (user: string): Promise<Event[]> =>
  JSON.parse(await c.ctlOk("events", "ls", "--type", "port", "--user", user, "--format", "json"));

/** Starts `ssh -N` with forwarding options; resolves once `ready` holds. */
async function tunnel(agent: Agent, user: SshUser, opts: string[], ready: () => Promise<boolean>): Promise<Proc> {
  const p = startProc(c.sshArgs(agent, user, "root", ["-N", "-o", "ExitOnForwardFailure=yes", ...opts]));
  procs.push(p);
  await waitFor(async () => p.proc.exitCode !== null || (await ready()), 15_000, "the forward to work", 50);
  if (p.proc.exitCode !== null) throw new Error(`ssh exited (${p.proc.exitCode}): ${p.output()}`);
  return p;
}

async function get(url: string): Promise<string | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return await r.text();
  } catch {
    return undefined;
  }
}

describe("forwarding allowed", () => {
  test("-L reaches a server on the node's loopback; port events carry source, destination, login and bytes", async () => {
    const lport = await freePort();
    const p = await tunnel(a1, alice, ["-L", `${lport}:127.0.0.1:${http.port}`], async () => (await get(`http://127.0.0.1:${lport}/x`)) !== undefined);
    expect(await get(`http://127.0.0.1:${lport}/via-L`)).toBe("hello from /via-L");
    await p.stop();
    let ev: Event[] = [];
    await waitFor(async () => (ev = await events("alice")).some((e) => e.code === "T3003S"), 10_000, "port stop events", 100);
    const start = ev.find((e) => e.code === "T3003I")!;
    expect(start).toMatchObject({ event: "port", login: "root", forward_kind: "local", destination: `127.0.0.1:${http.port}` });
    expect(String(start.source)).toMatch(/^127\.0\.0\.1:\d+$/);
    const stop = ev.find((e) => e.code === "T3003S" && e.fid === start.fid) ?? ev.find((e) => e.code === "T3003S")!;
    expect(Number(stop.bytes_from_client)).toBeGreaterThan(0);
    expect(Number(stop.bytes_to_client)).toBeGreaterThan(0);
  }, 30_000);

  test("-R listens on the node's loopback only and brings connections back to the client", async () => {
    const rport = await freePort();
    // "*" asks for every address; without gateway_ports the node binds loopback (sshd's GatewayPorts=no).
    await tunnel(a1, alice, ["-R", `*:${rport}:127.0.0.1:${http.port}`], async () => (await get(`http://127.0.0.1:${rport}/x`)) !== undefined);
    expect(await get(`http://127.0.0.1:${rport}/via-R`)).toBe("hello from /via-R");
    const ss = await run(["ss", "-ltnH", `sport = :${rport}`]);
    expect(ss.stdout).toContain(`127.0.0.1:${rport}`);
    expect(ss.stdout).not.toMatch(/(0\.0\.0\.0|\*|\[::\]):\d+/);
    let ev: Event[] = [];
    await waitFor(async () => (ev = await events("alice")).some((e) => e.forward_kind === "remote"), 10_000, "remote port event", 100);
    expect(ev.find((e) => e.forward_kind === "remote")).toMatchObject({ destination: `127.0.0.1:${rport}`, login: "root" });
  }, 30_000);

  test("-D with curl --socks5-hostname: the node resolves and connects", async () => {
    const dport = await freePort();
    await tunnel(a1, alice, ["-D", `127.0.0.1:${dport}`], async () => (await run(["curl", "-s", "--max-time", "2", "--socks5-hostname", `127.0.0.1:${dport}`, `http://127.0.0.1:${http.port}/x`])).code === 0);
    const r = await run(["curl", "-s", "--max-time", "5", "--socks5-hostname", `127.0.0.1:${dport}`, `http://localhost:${http.port}/via-D`]);
    expect(r.stdout).toBe("hello from /via-D");
  }, 30_000);

  test("-J through one node to another", async () => {
    const cfg = join(c.dir, "jump_config");
    const common = `  User root\n  HostName 127.0.0.1\n  IdentityFile ${alice.key}\n  CertificateFile ${alice.cert}\n  IdentitiesOnly yes\n  UserKnownHostsFile ${join(c.dir, "known_hosts")}\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n  BatchMode yes\n`;
    writeFileSync(cfg, `Host n1\n  Port ${a1.sshPort}\n${common}Host n2\n  Port ${a2.sshPort}\n${common}`);
    const r = await run(["ssh", "-F", cfg, "-J", "n1", "n2", "echo", "jumped-$((6*7))"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("jumped-42\n");
    let ev: Event[] = [];
    await waitFor(async () => (ev = await events("alice")).some((e) => e.destination === `127.0.0.1:${a2.sshPort}`), 10_000, "the jump's port event", 100);
    expect(ev.find((e) => e.destination === `127.0.0.1:${a2.sshPort}`)!.server_id).toBe(a1.serverId());
  }, 30_000);

  test("-A: ssh-add -l on the node sees the key; the socket is the login user's, and gone afterwards", async () => {
    const r = await run([...c.sshArgs(a1, alice, TEST_LOGIN, ["-A"]), 'ssh-add -l; echo "SOCK=$SSH_AUTH_SOCK"; stat -c "%U %a" "$(dirname "$SSH_AUTH_SOCK")" "$SSH_AUTH_SOCK"'], { env: { SSH_AUTH_SOCK: agentSock } });
    expect(r.stderr).toBe("");
    const fingerprint = (await run(["ssh-keygen", "-lf", alice.key + ".pub"])).stdout.split(" ")[1]!;
    expect(r.stdout).toContain(fingerprint);
    const sock = /SOCK=(\S+)/.exec(r.stdout)![1]!;
    expect(r.stdout).toContain(`${TEST_LOGIN} 700\n${TEST_LOGIN} 600\n`);
    await waitFor(() => !existsSync(sock), 5_000, "the agent socket to be removed");
  }, 30_000);

  test("max_sessions counts sessions, not forwards", async () => {
    const lport = await freePort();
    const p = startProc([...c.sshArgs(a1, frank, "root", ["-o", "ExitOnForwardFailure=yes", "-L", `${lport}:127.0.0.1:${http.port}`]), "sleep 30"]);
    procs.push(p);
    await waitFor(async () => (await get(`http://127.0.0.1:${lport}/x`)) !== undefined, 15_000, "the forward", 50).catch((e) => { throw new Error(`${e.message}: ${p.output()}`); });
    const bodies = await Promise.all([1, 2, 3].map((i) => get(`http://127.0.0.1:${lport}/${i}`)));
    expect(bodies).toEqual(["hello from /1", "hello from /2", "hello from /3"]);
    await p.stop();
  }, 30_000);
});

describe("forwarding refused, with the reason the client prints", () => {
  test("local forwarding refused by role", async () => {
    const r = await c.ssh(a1, bob, "root", [], { extra: ["-W", `127.0.0.1:${http.port}`] });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('open failed: administratively prohibited: port forwarding is not allowed by role "locked-down"');
    const ev = await events("bob");
    expect(ev.find((e) => e.code === "T3003E")).toMatchObject({ forward_kind: "local", reason: 'port forwarding is not allowed by role "locked-down"' });
  });

  test("remote forwarding refused by role: the client warns and the session says why", async () => {
    const r = await c.ssh(a1, bob, "root", ["echo ran"], { extra: ["-R", `0:127.0.0.1:${http.port}`] });
    expect(r.stdout).toBe("ran\n");
    expect(r.stderr).toContain("remote port forwarding failed");
    expect(r.stderr).toContain('hostward: remote port forwarding is not allowed by role "locked-down"');
  });

  test("agent forwarding refused by role: the session says why, and has no SSH_AUTH_SOCK", async () => {
    const r = await run([...c.sshArgs(a1, bob, "root", ["-A"]), 'echo "SOCK=${SSH_AUTH_SOCK:-none}"'], { env: { SSH_AUTH_SOCK: agentSock } });
    expect(r.stdout).toBe("SOCK=none\n");
    expect(r.stderr).toBe('hostward: agent forwarding is not allowed by role "locked-down"\n');
  });

  test("a certificate without permit-port-forwarding / permit-agent-forwarding", async () => {
    const l = await c.ssh(a1, carol, "root", [], { extra: ["-W", `127.0.0.1:${http.port}`] });
    expect(l.stderr).toContain("open failed: administratively prohibited: port forwarding is not permitted by the certificate (no permit-port-forwarding)");
    const a = await run([...c.sshArgs(a1, carol, "root", ["-A"]), 'echo "SOCK=${SSH_AUTH_SOCK:-none}"'], { env: { SSH_AUTH_SOCK: agentSock } });
    expect(a.stdout).toBe("SOCK=none\n");
    expect(a.stderr).toBe("hostward: agent forwarding is not permitted by the certificate (no permit-agent-forwarding)\n");
  });

  test("a target that refuses: connect failed with the reason", async () => {
    const closed = await freePort();
    const r = await c.ssh(a1, alice, "root", [], { extra: ["-W", `127.0.0.1:${closed}`] });
    expect(r.stderr).toContain(`open failed: connect failed: Connection refused (127.0.0.1:${closed})`);
  });
});

test("a lock cuts a live forward and its connection", async () => {
  // A TCP server that holds each connection open, so the forwarded channel is live when the lock lands.
  const held: import("bun").Socket[] = [];
  const echo = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open: (s) => void held.push(s), data: (s, d) => void s.write(d) } });
  try {
    const lport = await freePort();
    const p = await tunnel(a1, erin, ["-L", `${lport}:127.0.0.1:${echo.port}`], async () => {
      try {
        const s = await Bun.connect({ hostname: "127.0.0.1", port: lport, socket: { data() {} } });
        s.end();
        return true;
      } catch {
        return false;
      }
    });
    let got = "";
    let clientClosed = false;
    await Bun.connect({ hostname: "127.0.0.1", port: lport, socket: { open: (s) => void s.write("ping"), data: (_s, d) => void (got += d.toString()), close: () => void (clientClosed = true) } });
    await waitFor(() => got === "ping", 10_000, "the echo through the forward");
    await c.ctlOk("lock", "--user", "erin", "--message", "forward cut test");
    await waitFor(() => p.proc.exitCode !== null, 10_000, "ssh to exit");
    expect(p.output()).toContain('lock targeting User:"erin" is in force: forward cut test');
    await waitFor(() => clientClosed, 10_000, "the forwarded connection to close");
    let ev: Event[] = [];
    await waitFor(async () => (ev = await events("erin")).some((e) => e.code === "T3003S" && Number(e.bytes_from_client) === 4), 10_000, "the stop event", 100);
  } finally {
    echo.stop(true);
  }
}, 40_000);
