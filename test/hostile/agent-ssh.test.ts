// Hostile clients against the agent's SSH port, on the compiled binary: requests no
// OpenSSH client sends, oversized packets, channels dropped mid-way, floods. The agent
// stays up, answers each with a refusal the client can see, and serves the next login.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { connectHostile, sshString, u32, type HostileClient } from "../helpers/hostile-ssh.ts";
import { run, waitFor } from "../helpers/process.ts";

// Real processes on a shared 2-core machine.
setDefaultTimeout(60_000);

let c: TestCluster;
let a: Agent;
let alice: SshUser;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  a = await c.addAgent();
  await c.createRole("shell", `[allow]\nlogins = ["root"]`);
  alice = await c.addUser("alice", ["shell"]);
  await c.writeKnownHosts();
}, 60_000);

afterAll(async () => {
  if (a.proc.proc.exitCode !== null) console.error(`agent exited:\n${a.proc.output().slice(-3000)}`);
  await c.close();
});

/** The agent process is running and serves a fresh login. */
async function expectServing(): Promise<void> {
  expect(a.proc.proc.exitCode).toBeNull();
  const r = await c.ssh(a, alice, "root", ["echo still-serving"]);
  expect(r.stdout).toBe("still-serving\n");
}

const hostile = (): Promise<HostileClient> => connectHostile(a.sshPort, "root", alice.key, alice.cert);
const ptyReq = (term: string, cols = 80, rows = 24) => Buffer.concat([sshString(term), u32(cols), u32(rows), u32(0), u32(0), sshString("")]);

describe("requests that used to kill the agent", () => {
  test("ssh -s foo (an unknown subsystem) is refused and the agent keeps serving", async () => {
    const r = await c.ssh(a, alice, "root", ["-s", "foo"]);
    expect(r.code).toBe(255);
    expect(r.stderr).toContain("subsystem request failed");
    await expectServing();
  });

  test("a session channel opened and dropped with TCP, with and without a request on it", async () => {
    for (const withPty of [false, true]) {
      const h = await hostile();
      const ch = await h.session();
      if (withPty) expect(await h.channelRequest(ch, "pty-req", ptyReq("xterm"))).toBe(true);
      h.socket().destroy();
      await h.disconnected;
    }
    await expectServing();
  });

  test("an exec request over the packet limit is refused with a disconnect that says why", async () => {
    const r = await c.ssh(a, alice, "root", [`: ${"x".repeat(40_000)}; echo ran`]);
    expect(r.stdout).not.toContain("ran");
    expect(r.stderr).toContain("hostward: packet too large");
    await expectServing();
  });

  test("an exec command just under the packet limit runs whole", async () => {
    // 34,000 bytes: OpenSSH's client sends it in one packet of about 34,050 bytes (limit 35,000).
    const filler = "x".repeat(34_000 - 40);
    const r = await c.ssh(a, alice, "root", [`f=${filler}; echo "len=\${#f}"`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`len=${filler.length}\n`);
  });

  test("a pty-req with a 100 KB TERM is refused the same way", async () => {
    const r = await run([...c.sshArgs(a, alice, "root", ["-tt"]), "echo ran"], { env: { TERM: "x".repeat(100_000) } });
    expect(r.stdout).not.toContain("ran");
    expect(r.stderr).toContain("hostward: packet too large");
    await expectServing();
  });

  test("a TERM just under the packet limit is cut to a sane length", async () => {
    const h = await hostile();
    const ch = await h.session();
    expect(await h.channelRequest(ch, "pty-req", ptyReq("y".repeat(30_000)))).toBe(true);
    let out = "";
    ch.on("data", (d: Buffer) => (out += d));
    expect(await h.channelRequest(ch, "exec", sshString('printf "TERMLEN=%s" "${#TERM}"'))).toBe(true);
    await new Promise((r) => ch.on("close", r));
    expect(Number(out.match(/TERMLEN=(\d+)/)?.[1])).toBe(64);
    h.end();
  });
});

describe("every other request a client can send", () => {
  test("env floods, absurd window sizes, signals, unknown and repeated requests, x11-req: refused or ignored, the session still runs", async () => {
    const h = await hostile();
    const ch = await h.session();
    const env = await Promise.all(Array.from({ length: 500 }, (_, i) => h.channelRequest(ch, "env", Buffer.concat([sshString(`LC_X${i}`), sshString("v".repeat(2000))]))));
    expect(env.every((ok) => ok === false)).toBe(true); // values over 1 KiB are refused
    const small = await Promise.all(Array.from({ length: 200 }, (_, i) => h.channelRequest(ch, "env", Buffer.concat([sshString(`LC_Y${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + Math.floor(i / 26))}`), sshString("v")]))));
    expect(small.filter(Boolean).length).toBe(64); // at most 64 variables
    expect(await h.channelRequest(ch, "x11-req", Buffer.concat([Buffer.from([0]), sshString("MIT-MAGIC-COOKIE-1"), sshString("00"), u32(0)]))).toBe(false);
    expect(await h.channelRequest(ch, "frobnicate@example.com", Buffer.from("junk"))).toBe(false);
    expect(await h.channelRequest(ch, "pty-req", ptyReq("xterm", 0xffffffff, 0xffffffff))).toBe(true);
    expect(await h.channelRequest(ch, "window-change", Buffer.concat([u32(0xffffffff), u32(0), u32(0xffffffff), u32(0xffffffff)]), false)).toBeUndefined();
    expect(await h.channelRequest(ch, "signal", sshString("KILL"), false)).toBeUndefined(); // nothing runs yet
    for (let i = 0; i < 50; i++) await h.channelRequest(ch, "window-change", Buffer.concat([u32(i * 100_000), u32(0xffffffff - i), u32(0), u32(0)]), false);
    let out = "";
    let err = "";
    ch.on("data", (d: Buffer) => (out += d));
    ch.stderr.on("data", (d: Buffer) => (err += d));
    expect(await h.channelRequest(ch, "exec", sshString("stty size; echo done"))).toBe(true);
    expect(await h.channelRequest(ch, "exec", sshString("echo second"))).toBe(false); // one program per channel
    expect(await h.channelRequest(ch, "shell", Buffer.alloc(0))).toBe(false);
    await new Promise((r) => ch.on("close", r));
    expect(out).toContain("24 80"); // absurd sizes fell back to 80x24
    expect(out).toContain("done");
    expect(out + err).toContain("hostward: X11 forwarding is not supported");
    h.end();
    await expectServing();
  });

  test("unknown global requests, unknown channel types and forwarding without a listener are refused; the connection goes on", async () => {
    const h = await hostile();
    h.globalRequest("frobnicate@example.com", Buffer.from("x".repeat(1000)));
    h.globalRequest("tcpip-forward", Buffer.concat([sshString("127.0.0.1"), u32(0)])); // no permit-port-forwarding needed to be refused: not offered
    h.channelOpen("x11", 7, Buffer.concat([sshString("127.0.0.1"), u32(6000)]));
    h.channelOpen("frobnicate@example.com", 8);
    const r = await h.exec("echo after-junk");
    expect(r.stdout).toBe("after-junk\n");
    h.end();
    // A malformed channel open is a protocol error: that connection ends (as with sshd), nothing else.
    const bad = await hostile();
    bad.channelOpen("direct-tcpip", 9, Buffer.from([0xff]));
    await bad.disconnected;
    const badGlobal = await hostile();
    badGlobal.globalRequest("tcpip-forward", Buffer.from([1, 2]));
    await badGlobal.disconnected;
    const badPty = await hostile();
    expect(await badPty.channelRequest(await badPty.session(), "pty-req", Buffer.from([1, 2, 3]))).toBe(false);
    await badPty.disconnected;
    await expectServing();
  });

  test("a signal to a running command is delivered; an unknown signal name is ignored", async () => {
    const h = await hostile();
    const ch = await h.session();
    let exitSignal = "";
    ch.on("exit", (_code: number | null, signal?: string) => (exitSignal = signal ?? ""));
    let out = "";
    ch.on("data", (d: Buffer) => (out += d));
    expect(await h.channelRequest(ch, "exec", sshString("echo started; exec sleep 30"))).toBe(true);
    await waitFor(() => out.includes("started"), 10_000, "the command to start");
    await h.channelRequest(ch, "signal", sshString("NOSUCH".repeat(1000)), false);
    await h.channelRequest(ch, "signal", sshString("TERM"), false);
    await new Promise((r) => ch.on("close", r));
    expect(exitSignal).toBe("SIGTERM");
    h.end();
  });

  test("many channels on one connection: the ones over the cap are refused, the connection still works", async () => {
    const h = await hostile();
    const opened = await Promise.allSettled(Array.from({ length: 200 }, () => h.session()));
    const ok = opened.filter((o) => o.status === "fulfilled").length;
    expect(ok).toBeLessThanOrEqual(64);
    expect(ok).toBeGreaterThanOrEqual(10);
    for (const o of opened) if (o.status === "fulfilled") o.value.close();
    await waitFor(async () => (await h.exec("echo room").catch(() => ({ stdout: "" }))).stdout === "room\n", 10_000, "a channel once the others closed", 200);
    h.end();
    await expectServing();
  });

  test("many connections dropped mid-session at once", async () => {
    const clients = await Promise.all(Array.from({ length: 10 }, () => hostile()));
    await Promise.all(clients.map(async (h) => {
      const ch = await h.session();
      await h.channelRequest(ch, "pty-req", ptyReq("xterm"));
      let out = "";
      ch.on("data", (d: Buffer) => (out += d));
      await h.channelRequest(ch, "exec", sshString("echo RUNNING; exec sleep 60"));
      // Dropped once the program runs (not while the login shell reads its rc files).
      await waitFor(() => out.includes("RUNNING"), 20_000, "the session to run");
      h.socket().destroy();
    }));
    await expectServing();
  });
});

describe("hostward dev (auth and agent in one process)", () => {
  test("survives the same requests", async () => {
    const { CLI, freePort, startProc } = await import("../helpers/process.ts");
    const dir = join(c.dir, "dev");
    const [authPort, sshPort, webPort, diagPort, agentDiagPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    const dev = startProc([...CLI, "dev", "--dir", dir, "--auth-port", String(authPort), "--ssh-port", String(sshPort),
      "--web-port", String(webPort), "--diag-port", String(diagPort), "--agent-diag-port", String(agentDiagPort)]);
    try {
      await dev.waitForOutput(/Log in with/, 30_000);
      const ssh = (...args: string[]) => run(["ssh", "-F", join(dir, "ssh_config"), "-o", "BatchMode=yes", ...args]);
      expect((await ssh("node", "-s", "foo")).code).toBe(255);
      expect((await ssh("node", `: ${"x".repeat(40_000)}`)).stderr).toContain("hostward: packet too large");
      const h = await connectHostile(sshPort, "root", join(dir, "id_ed25519"), join(dir, "id_ed25519-cert.pub"));
      await h.session();
      h.socket().destroy();
      expect((await ssh("node", "echo dev-alive")).stdout).toBe("dev-alive\n");
      expect(dev.proc.exitCode).toBeNull();
    } finally {
      await dev.stop();
    }
  }, 60_000);
});
