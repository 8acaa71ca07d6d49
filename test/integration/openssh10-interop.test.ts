// Post-quantum key exchange against a real OpenSSH 10 (Debian 13's client, in a chroot
// made once by debootstrap): it must negotiate mlkem768x25519-sha256 and log in.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { ensureTrixieRoot, inRoot, stageInRoot } from "../helpers/trixie-root.ts";

let c: TestCluster;
let agent: Agent;
let alice: SshUser;
let root: string;
let staged: ReturnType<typeof stageInRoot>;

beforeAll(async () => {
  root = await ensureTrixieRoot(); // minutes the first time on a machine, then cached
  c = new TestCluster();
  await c.startAuth();
  agent = await c.addAgent("", 'labels = { env = "test" }');
  await c.createRole("ops", `[allow]\nlogins = ["root"]\nnode_labels = { env = "test" }`);
  alice = await c.addUser("alice", ["ops"]);
  staged = stageInRoot(root, [alice.key, alice.cert, await c.writeKnownHosts()]);
}, 20 * 60_000);

afterAll(async () => {
  if (staged) rmSync(staged.outside, { recursive: true, force: true });
  await c?.close();
});

function ssh10(extra: string[], command: string) {
  const args = c.sshArgs(agent, alice, "root", extra).slice(1).map((a) =>
    a.replace(alice.key + "", staged.path(alice.key)).replace(alice.cert, staged.path(alice.cert))
      .replace(join(c.dir, "known_hosts"), staged.path(join(c.dir, "known_hosts"))));
  return inRoot(root, ["ssh", ...args, command], { timeoutMs: 90_000 });
}

test("OpenSSH 10 negotiates mlkem768x25519-sha256 and logs in", async () => {
  const v = await inRoot(root, ["ssh", "-V"]);
  expect(v.stderr).toMatch(/^OpenSSH_(1\d|9\.9)/);
  const r = await ssh10(["-v"], "echo pq-ok");
  expect(r.stderr).toContain("kex: algorithm: mlkem768x25519-sha256");
  expect(r.stderr).toContain("server->client cipher: aes128-gcm@openssh.com");
  expect(r.stdout).toBe("pq-ok\n");
  expect(r.code).toBe(0);
});

test("OpenSSH 10 limited to X25519 still logs in", async () => {
  const r = await ssh10(["-v", "-o", "KexAlgorithms=curve25519-sha256"], "echo x25519-ok");
  expect(r.stderr).toContain("kex: algorithm: curve25519-sha256");
  expect(r.stdout).toBe("x25519-ok\n");
});

test("a rekey mid-stream runs the hybrid exchange again and no byte is lost", async () => {
  const r = await ssh10(["-v", "-o", "RekeyLimit=256K"], "head -c 3000000 /dev/zero | tr '\\0' x");
  expect(r.code).toBe(0);
  expect(r.stdout.length).toBe(3_000_000);
  expect(r.stderr.match(/kex: algorithm: mlkem768x25519-sha256/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
});
