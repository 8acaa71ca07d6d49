// The clients people already have, against a real agent: OpenSSH (AES-GCM, X25519 or
// better, delayed compression), paramiko with a certificate (CTR + ETM, exec and shell),
// PuTTY's plink, and ssh-audit's verdict on every algorithm the agent offers.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, run } from "../helpers/process.ts";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";

let c: TestCluster;
let agent: Agent;
let alice: SshUser;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  agent = await c.addAgent("", 'labels = { env = "test" }');
  await c.createRole("ops", `[allow]\nlogins = ["root"]\nnode_labels = { env = "test" }`);
  alice = await c.addUser("alice", ["ops"]);
  await c.writeKnownHosts();
}, 60_000);

afterAll(() => c.close());

describe("OpenSSH", () => {
  test("negotiates X25519 (9.2 has no ML-KEM), AES-GCM, and logs in", async () => {
    const r = await c.ssh(agent, alice, "root", ["echo ok"], { extra: ["-v"] });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("ok\n");
    expect(r.stderr).toContain("kex: algorithm: curve25519-sha256");
    expect(r.stderr).toMatch(/server->client cipher: aes128-gcm@openssh\.com MAC: <implicit> compression: none/);
  });

  test("NIST curves, finite-field DH and SHA-1 key exchanges are refused at once", async () => {
    const kex = "ecdh-sha2-nistp256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha256,diffie-hellman-group14-sha1";
    const r = await c.ssh(agent, alice, "root", ["true"], { extra: ["-o", `KexAlgorithms=${kex}`] });
    expect(r.code).toBe(255);
    expect(r.stderr).toContain("no matching key exchange method found");
  });

  test("is offered AES-GCM only, so its own order never picks CTR", async () => {
    const r = await c.ssh(agent, alice, "root", ["true"], { extra: ["-c", "aes128-ctr"] });
    expect(r.code).toBe(255);
    expect(r.stderr).toContain("no matching cipher found");
  });

  test("-C gets zlib@openssh.com (after authentication) and works", async () => {
    const r = await c.ssh(agent, alice, "root", ["head -c 200000 /dev/zero | wc -c"], { extra: ["-v", "-C"] });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("200000");
    expect(r.stderr).toContain("compression: zlib@openssh.com");
    // delayed: OpenSSH turns it on when the server's USERAUTH_SUCCESS arrives, after the key was accepted
    const accepted = r.stderr.indexOf("Server accepts key");
    expect(accepted).toBeGreaterThan(0);
    expect(r.stderr.indexOf("Enabling compression")).toBeGreaterThan(accepted);
  });
});

describe("paramiko", () => {
  const script = join(ROOT, "test/helpers/paramiko-client.py");
  let knownHosts = "";

  beforeAll(async () => {
    knownHosts = join(c.dir, "known_hosts.paramiko");
    writeFileSync(knownHosts, await c.ctlOk("known-hosts", "--format", "known_hosts"));
  });

  const paramiko = (mode: "exec" | "shell", arg: string) =>
    run(["/usr/bin/python3", script, "127.0.0.1", String(agent.sshPort), "root", alice.key, alice.cert, knownHosts, mode, arg], { timeoutMs: 60_000 });

  test("exec with a user certificate, trusting the host from ctl known-hosts", async () => {
    const r = await paramiko("exec", "echo out; echo err >&2; exit 3");
    expect(r.stdout).toBe("out\n");
    expect(r.stderr).toContain("err\n");
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("cipher=aes128-ctr");
    expect(r.stderr).toContain("mac=hmac-sha2-256-etm@openssh.com");
  });

  test("an interactive shell", async () => {
    const r = await paramiko("shell", "tty\necho $((6*7))\nexit 4\n");
    expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
    expect(r.stdout).toContain("42");
    expect(r.code).toBe(4);
  });

  test("an unknown host key is refused", async () => {
    const other = join(c.dir, "known_hosts.empty");
    writeFileSync(other, "");
    const r = await run(["/usr/bin/python3", script, "127.0.0.1", String(agent.sshPort), "root", alice.key, alice.cert, other, "exec", "true"], { timeoutMs: 60_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("not found in known_hosts");
  });
});

describe("PuTTY plink", () => {
  test("exec with a certificate in the key, host pinned by ctl known-hosts --format putty", async () => {
    const ppk = join(c.dir, "alice.ppk");
    const conv = await run(["puttygen", alice.key, "--certificate", alice.cert, "-O", "private", "-o", ppk]);
    expect(conv.code).toBe(0);
    const line = (await c.ctlOk("known-hosts", "--format", "putty")).trim();
    const fp = line.split(" ")[2]!;
    expect(fp).toMatch(/^SHA256:/);
    const r = await run(["plink", "-batch", "-ssh", "-P", String(agent.sshPort), "-i", ppk, "-hostkey", fp, "root@127.0.0.1", "echo plink-ok; exit 5"], { timeoutMs: 60_000 });
    expect(r.stdout).toContain("plink-ok");
    expect(r.code).toBe(5);
  });
});

describe("ssh-audit", () => {
  // ssh-audit 2.5 (Debian 12) does not know the newest algorithms; that is its only warning allowed.
  const UNKNOWN_OK = ["mlkem768x25519-sha256", "kex-strict-s-v00@openssh.com"];
  const audit = (software: string) =>
    run(["/usr/bin/python3", join(ROOT, "test/helpers/ssh-audit-as.py"), software, "-n", "-p", String(agent.sshPort), "127.0.0.1"], { timeoutMs: 60_000 });
  const findings = (out: string) => out.split("\n").filter((l) => /\[(fail|warn)\]/.test(l))
    .filter((l) => !(UNKNOWN_OK.some((a) => l.includes(`${a} `)) && l.includes("unknown algorithm")));

  test("the stock ssh-audit (it says it is OpenSSH 8.2): no failure, no warning but unknown algorithms", async () => {
    const r = await run(["ssh-audit", "-n", "-p", String(agent.sshPort), "127.0.0.1"], { timeoutMs: 60_000 });
    expect(findings(r.stdout)).toEqual([]);
    expect(r.stdout).toContain("(kex) mlkem768x25519-sha256");
    expect(r.stdout).toContain("(kex) curve25519-sha256");
    expect(r.stdout).toContain("compression: enabled (zlib@openssh.com)");
    expect(r.stdout).not.toMatch(/\(kex\) (ecdh-sha2|diffie-hellman)|\(mac\) hmac-sha1|\(mac\) hmac-sha2-256 |\(enc\) aes128-ctr/);
  });

  test("as a client without AES-GCM (paramiko): CTR and ETM MACs pass too", async () => {
    const r = await audit("paramiko_2.12.0");
    expect(findings(r.stdout)).toEqual([]);
    expect(r.stdout).toContain("(enc) aes128-ctr");
    expect(r.stdout).toContain("(mac) hmac-sha2-256-etm@openssh.com");
    expect(r.stdout).not.toMatch(/\(mac\) hmac-sha1|\(mac\) hmac-sha2-(256|512) /);
  });
});
