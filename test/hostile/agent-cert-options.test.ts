// Certificate restrictions on the compiled agent, with certificates made by OpenSSH's
// ssh-keygen: force-command (shell, exec and subsystem, SSH_ORIGINAL_COMMAND as sshd
// sets it), permit-pty, X11 (never), and RSA user certificates (rsa-sha2-256/512 log in;
// ssh-rsa, SHA-1, is refused as OpenSSH 8.8+ refuses it).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { connectHostile, sshString, u32 } from "../helpers/hostile-ssh.ts";
import { run } from "../helpers/process.ts";

// Real processes on a shared 2-core machine.
setDefaultTimeout(60_000);

let c: TestCluster;
let a: Agent;
let rita: SshUser;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  a = await c.addAgent();
  await c.createRole("shell", `[allow]\nlogins = ["root"]`);
  rita = await c.addUser("rita", ["shell"]);
  await c.writeKnownHosts();
}, 60_000);

afterAll(() => c.close());

/** A certificate for `key` signed by the cluster's user CA with ssh-keygen options `opts`. */
async function certWith(name: string, key: string, opts: string[]): Promise<SshUser> {
  const pub = join(c.dir, `${name}.pub`);
  copyFileSync(`${key}.pub`, pub);
  const r = await run(["ssh-keygen", "-q", "-s", join(c.dir, "auth", "ssh", "user_ca"), "-I", "rita", "-n", "root", "-V", "-5m:+1h", ...opts, pub]);
  if (r.code !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
  return { name: "rita", key, cert: join(c.dir, `${name}-cert.pub`) };
}

describe("force-command", () => {
  test("runs instead of exec, shell and subsystem requests, with SSH_ORIGINAL_COMMAND as sshd sets it", async () => {
    const forced = await certWith("forced", rita.key, ["-O", `force-command=printf 'FORCED[%s]' "\${SSH_ORIGINAL_COMMAND-unset}"`]);
    const exec = await c.ssh(a, forced, "root", ["id -un; cat /etc/hostname"]);
    expect(exec.stdout).toBe("FORCED[id -un; cat /etc/hostname]");
    const shell = await c.ssh(a, forced, "root", [], { extra: ["-tt"] });
    expect(shell.stdout).toContain("FORCED[unset]");
    const subsystem = await c.ssh(a, forced, "root", ["-s", "sftp"]);
    expect(subsystem.stdout).toMatch(/^FORCED\[\/.*sftp-server\]$/);
  });

  test("a restricted automation certificate cannot become a shell through sftp or scp", async () => {
    const forced = await certWith("forced-echo", rita.key, ["-O", "force-command=/bin/echo FORCED"]);
    const sftp = await run(["sftp", "-b", "-", ...c.sshArgs(a, forced, "root").slice(1)], { stdin: "ls /\n" });
    expect(sftp.code).not.toBe(0);
    expect(sftp.stdout).not.toContain("etc");
  });
});

describe("permit-pty", () => {
  test("without it a PTY is refused: OpenSSH's -tt gives up, a client that goes on runs without one and is told why", async () => {
    const noPty = await certWith("no-pty", rita.key, ["-O", "clear"]);
    const forced = await c.ssh(a, noPty, "root", ["echo RAN"], { extra: ["-tt"] });
    expect(forced.stderr).toContain("PTY allocation request failed");
    expect(forced.stdout).not.toContain("RAN"); // OpenSSH closes the channel when a forced TTY is refused
    const h = await connectHostile(a.sshPort, "root", noPty.key, noPty.cert);
    const ch = await h.session();
    expect(await h.channelRequest(ch, "pty-req", Buffer.concat([sshString("xterm"), u32(80), u32(24), u32(0), u32(0), sshString("")]))).toBe(false);
    let out = "";
    ch.on("data", (d: Buffer) => (out += d));
    ch.stderr.on("data", (d: Buffer) => (out += d));
    expect(await h.channelRequest(ch, "exec", sshString("tty || echo NO-TTY"))).toBe(true);
    await new Promise((r) => ch.on("close", r));
    h.end();
    expect(out).toContain("NO-TTY");
    expect(out).toContain("hostward: PTY allocation is not permitted by your certificate (permit-pty)");
  });

  test("with it a PTY is allocated", async () => {
    const pty = await certWith("pty", rita.key, ["-O", "clear", "-O", "permit-pty"]);
    const r = await c.ssh(a, pty, "root", ["tty"], { extra: ["-tt"] });
    expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
  });
});

describe("X11 forwarding", () => {
  test("is refused even with permit-X11-forwarding, and the client is told why", async () => {
    const x11 = await certWith("x11", rita.key, ["-O", "clear", "-O", "permit-X11-forwarding"]);
    const r = await run([...c.sshArgs(a, x11, "root", ["-X"]), "echo RAN"], { env: { DISPLAY: "127.0.0.1:99" } });
    expect(r.stdout).toContain("RAN");
    expect(r.stderr).toContain("X11 forwarding request failed");
    expect(r.stderr).toContain("hostward: X11 forwarding is not supported by this agent");
  });
});

describe("RSA user certificates", () => {
  for (const alg of ["rsa-sha2-512", "rsa-sha2-256"]) {
    test(`${alg}-cert-v01@openssh.com from OpenSSH's ssh-keygen logs in`, async () => {
      const key = join(c.dir, `rita_rsa_${alg}`);
      await run(["ssh-keygen", "-q", "-t", "rsa", "-b", "3072", "-N", "", "-f", key]);
      const rsa = await certWith(`rsa-${alg}`, key, []);
      const r = await c.ssh(a, rsa, "root", ["echo RSA-OK"], { extra: ["-o", `PubkeyAcceptedAlgorithms=${alg}-cert-v01@openssh.com,${alg}`, "-v"] });
      expect(r.stdout).toBe("RSA-OK\n");
      expect(r.stderr).toContain(`Server accepts key: ${rsa.cert} RSA-CERT`);
    });
  }

  test("ssh-rsa-cert-v01@openssh.com (SHA-1 signatures) is refused with a one-line reason, and the agent keeps serving", async () => {
    const key = join(c.dir, "rita_rsa_sha1");
    await run(["ssh-keygen", "-q", "-t", "rsa", "-b", "3072", "-N", "", "-f", key]);
    const rsa = await certWith("rsa-sha1", key, []);
    // OpenSSH 9 still signs with SHA-1 when told to use only this algorithm.
    const r = await c.ssh(a, rsa, "root", ["echo RAN"], { extra: ["-o", "PubkeyAcceptedAlgorithms=ssh-rsa-cert-v01@openssh.com"] });
    expect(r.code).toBe(255);
    expect(r.stdout).not.toContain("RAN");
    const reason = "hostward: ssh-rsa-cert-v01@openssh.com (SHA-1 signatures) is not accepted: use rsa-sha2-256 or rsa-sha2-512";
    expect(r.stderr.split(/\r?\n/).filter((l) => l.startsWith("hostward:"))).toEqual([reason]);
    expect(r.stderr).toContain("Permission denied (publickey)");
    // The same certificate with a SHA-2 signature is fine: only the signature algorithm was refused.
    const ok = await c.ssh(a, rsa, "root", ["echo RAN"], { extra: ["-o", "PubkeyAcceptedAlgorithms=rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-512"] });
    expect(ok.stdout).toBe("RAN\n");
  });
});
