// Connections that never log in, on the compiled agent: closed for good (no file
// descriptor left on the agent) at ssh.login_grace_time, and no more than
// ssh.max_startups of them at once, the next one refused with one line.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { run, waitFor } from "../helpers/process.ts";

// Real processes on a shared 2-core machine.
setDefaultTimeout(60_000);

const GRACE_S = 3;
const MAX_STARTUPS = 5;

let c: TestCluster;
let a: Agent;
let uma: SshUser;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  a = await c.addAgent("", `login_grace_time = "${GRACE_S}s"\nmax_startups = ${MAX_STARTUPS}`);
  await c.createRole("shell", `[allow]\nlogins = ["root"]`);
  uma = await c.addUser("uma", ["shell"]);
  await c.writeKnownHosts();
}, 60_000);

afterAll(() => c.close());

interface Raw { socket: Socket; received: () => string; ended: Promise<void> }

/** A TCP client that keeps its own side open (half-open allowed), optionally saying an SSH hello. */
async function raw(hello?: string): Promise<Raw> {
  const socket = connect({ host: "127.0.0.1", port: a.sshPort, allowHalfOpen: true });
  let got = "";
  socket.on("data", (d) => (got += d.toString("latin1")));
  socket.on("error", () => {});
  const ended = new Promise<void>((resolve) => { socket.once("end", resolve); socket.once("close", resolve); });
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  if (hello) socket.write(hello);
  return { socket, received: () => got, ended };
}

/** The agent's own TCP sockets on its SSH port (ss lists the process only while a descriptor holds one). */
async function agentSockets(): Promise<number> {
  const ss = await run(["ss", "-Htnp", "state", "all", `( sport = :${a.sshPort} )`]);
  return ss.stdout.split("\n").filter((l) => l.includes(`pid=${a.proc.proc.pid},`) && !/LISTEN/.test(l)).length;
}

describe("ssh.login_grace_time", () => {
  test("connections that never log in are closed at the grace time and their descriptors released, silent or mid-handshake", async () => {
    const t0 = Date.now();
    const clients = [await raw(), await raw("SSH-2.0-OpenSSH_9.2p1 hostile\r\n"), await raw("SSH-2.0-OpenSSH_9.2p1 hostile\r\n")];
    await waitFor(async () => (await agentSockets()) >= clients.length, 5_000, "the agent holding the connections", 100);
    await Promise.all(clients.map((x) => x.ended));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(GRACE_S * 1000 - 500);
    // The clients have not closed their side: only the agent can have released them.
    await waitFor(async () => (await agentSockets()) === 0, 3_000, "no descriptor left on the agent", 100);
    for (const x of clients) x.socket.destroy();
  });
});

describe("ssh.max_startups", () => {
  test("one connection over the limit is refused with a line; a login works once slots free", async () => {
    const held = await Promise.all(Array.from({ length: MAX_STARTUPS }, () => raw()));
    await waitFor(async () => (await agentSockets()) >= MAX_STARTUPS, 5_000, "the agent holding the connections", 100);
    const over = await raw();
    await over.ended;
    expect(over.received()).toStartWith("SSH-2.0-hostward\r\n");
    expect(over.received()).toContain("hostward: too many connections not logged in yet (ssh.max_startups is 5); try again later");
    const refused = await c.ssh(a, uma, "root", ["echo IN"]);
    expect(refused.stdout).not.toContain("IN");
    expect(refused.code).toBe(255);
    expect(refused.stderr).toContain("Received disconnect from 127.0.0.1");
    expect(refused.stderr).toContain("hostward: too many connections not logged in yet (ssh.max_startups is 5); try again later");
    for (const x of held) x.socket.destroy();
    await waitFor(async () => (await agentSockets()) === 0, 5_000, "the held connections gone", 100);
    expect((await c.ssh(a, uma, "root", ["echo IN"])).stdout).toBe("IN\n");
    over.socket.destroy();
  });
});
