// Forwarding requests OpenSSH would not send, from an ssh2 client with a valid
// certificate: bad ports and addresses, relative socket paths, cancels of nothing,
// and more -R listeners than allowed. Each is refused; the agent and the connection go on.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { Client, utils, type ClientChannel } from "ssh2";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { ensureTestAccount, TEST_LOGIN } from "../helpers/os-account.ts";

let c: TestCluster;
let agent: Agent;
let alice: SshUser;
let conn: Client;

function connect(port: number, user: SshUser, login = "root"): Promise<Client> {
  const parsed = utils.parseKey(readFileSync(user.key));
  if (parsed instanceof Error) throw parsed;
  const plain = Array.isArray(parsed) ? parsed[0]! : parsed;
  const [certType, b64] = readFileSync(user.cert, "utf8").trim().split(" ");
  const key = Object.create(plain, { type: { value: certType }, getPublicSSH: { value: () => Buffer.from(b64!, "base64") } });
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.on("error", reject);
    client.on("ready", () => resolve(client));
    client.connect({
      host: "127.0.0.1", port, username: login, readyTimeout: 20_000, hostVerifier: () => true, strictVendor: false,
      authHandler: [{ type: "publickey", username: login, key } as never],
    });
  });
}

const outcome = (start: (cb: (err: Error | null | undefined, x?: unknown) => void) => void): Promise<string> =>
  new Promise((resolve) => start((err, x) => {
    if (err) return resolve(`refused: ${err.message.replace(/^\(SSH\) Channel open failure: /, "")}`);
    (x as ClientChannel | undefined)?.destroy?.();
    resolve("accepted");
  }));

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  agent = await c.addAgent();
  await ensureTestAccount();
  await c.createRole("fwd", `[allow]\nlogins = ["root", "${TEST_LOGIN}"]`);
  alice = await c.addUser("alice", ["fwd"]);
  await c.writeKnownHosts();
  conn = await connect(agent.sshPort, alice);
}, 90_000);

afterAll(async () => {
  conn?.end();
  await c.close();
});

test("bad direct-tcpip targets and socket paths are refused with a reason", async () => {
  expect(await outcome((cb) => conn.forwardOut("127.0.0.1", 1, "127.0.0.1", 0, cb))).toBe("refused: bad port 0");
  expect(await outcome((cb) => conn.forwardOut("127.0.0.1", 1, "127.0.0.1", 70000, cb))).toBe("refused: bad port 70000");
  expect(await outcome((cb) => conn.forwardOut("127.0.0.1", 1, "no-such-host.invalid", 80, cb))).toMatch(/^refused: .*no-such-host\.invalid:80\)$/);
  expect(await outcome((cb) => conn.openssh_forwardOutStreamLocal("relative/sock", cb))).toBe("refused: socket path must be absolute: relative/sock");
  expect(await outcome((cb) => conn.openssh_forwardOutStreamLocal("/nonexistent/sock", cb))).toBe("refused: No such file or directory (/nonexistent/sock)");
});

test("bad -R requests fail; cancels of nothing fail; the connection goes on", async () => {
  expect(await outcome((cb) => conn.forwardIn("127.0.0.1", 70000, cb))).toMatch(/^refused/);
  expect(await outcome((cb) => conn.unforwardIn("127.0.0.1", 1, cb))).toMatch(/^refused/);
  expect(await outcome((cb) => conn.openssh_forwardInStreamLocal("relative/sock", cb))).toMatch(/^refused/);
  expect(await outcome((cb) => conn.openssh_unforwardInStreamLocal("/nonexistent/sock", cb))).toMatch(/^refused/);
});

test("at most 64 -R listeners per connection", async () => {
  const results = await Promise.all(Array.from({ length: 70 }, () => outcome((cb) => conn.forwardIn("127.0.0.1", 0, cb))));
  expect(results.filter((r) => r === "accepted").length).toBe(64);
  const ev = JSON.parse(await c.ctlOk("events", "ls", "--type", "port", "--user", "alice", "--limit", "500", "--format", "json"));
  expect(ev.some((e: { reason?: string }) => e.reason === "too many remote forwards on this connection (max=64)")).toBe(true);
});

test("after all that, the connection still runs a session", async () => {
  const out = await new Promise<string>((resolve, reject) => conn.exec("echo alive", (err, ch) => {
    if (err) return reject(err);
    let s = "";
    ch.on("data", (d: Buffer) => (s += d.toString()));
    ch.on("close", () => resolve(s));
  }));
  expect(out).toBe("alive\n");
});

test("a non-root login: -L sockets through its relay with the same reasons, no -R sockets, no privileged -R ports", async () => {
  const user = await connect(agent.sshPort, alice, TEST_LOGIN);
  try {
    expect(await outcome((cb) => user.openssh_forwardOutStreamLocal("relative/sock", cb))).toBe("refused: socket path must be absolute: relative/sock");
    expect(await outcome((cb) => user.openssh_forwardOutStreamLocal("/nonexistent/sock", cb))).toBe("refused: No such file or directory (/nonexistent/sock)");
    expect(await outcome((cb) => user.openssh_forwardInStreamLocal("/tmp/hostward-test-owned-by-root.sock", cb))).toMatch(/^refused/);
    expect(await outcome((cb) => user.forwardIn("127.0.0.1", 80, cb))).toMatch(/^refused/);
    const ev = JSON.parse(await c.ctlOk("events", "ls", "--type", "port", "--user", "alice", "--limit", "500", "--format", "json"));
    expect(ev.some((e: { reason?: string }) => e.reason === "port 80 is privileged: only the root login may listen on it")).toBe(true);
    expect(ev.some((e: { forward_kind?: string; reason?: string }) => e.forward_kind === "remote-socket" && e.reason === "Unix-socket forwarding is only available to the root login on this node")).toBe(true);
  } finally {
    user.end();
  }
});
