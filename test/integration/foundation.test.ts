// The foundation end to end: a real auth service and agent as processes, logins
// with the system's OpenSSH client, file copy with scp and sftp.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, waitFor } from "../helpers/process.ts";
import { offerRawCertificate } from "../helpers/raw-client.ts";
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

describe("exec", () => {
  test("stdout, stderr and exit code come back", async () => {
    const r = await c.ssh(agent, alice, "root", ["echo out; echo err >&2; exit 7"]);
    expect(r.stdout).toBe("out\n");
    expect(r.stderr).toContain("err\n");
    expect(r.code).toBe(7);
  });

  test("runs as the login with its environment", async () => {
    const r = await c.ssh(agent, alice, "root", ["id -u; echo $HOME $USER $LOGNAME $SHELL; pwd"]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")).toEqual(["0", "/root root root /bin/bash", "/root", ""]);
  });

  test("stdin reaches the command", async () => {
    const r = await c.ssh(agent, alice, "root", ["wc -c"], { stdin: "x".repeat(100_000) });
    expect(r.stdout.trim()).toBe("100000");
  });

  test("a command killed by a signal reports it", async () => {
    const r = await c.ssh(agent, alice, "root", ["kill -TERM $$"]);
    expect(r.code).toBe(255); // OpenSSH exits 255 when the remote died of a signal
  });
});

describe("interactive PTY", () => {
  test("a shell gets a terminal, runs typed commands and exits", async () => {
    const r = await c.ssh(agent, alice, "root", [], { extra: ["-tt"], stdin: "tty\necho $((6*7))\nstty size\nexit 3\n" });
    expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
    expect(r.stdout).toContain("42");
    expect(r.code).toBe(3);
  });
});

describe("file copy", () => {
  test("scp both ways and sftp", async () => {
    const local = join(c.dir, "payload.bin");
    writeFileSync(local, crypto.getRandomValues(new Uint8Array(65536)));
    const base = c.sshArgs(agent, alice, "root").slice(1, -1).filter((a) => a !== "-p" && a !== String(agent.sshPort));
    const up = await run(["scp", ...base, "-P", String(agent.sshPort), local, `root@127.0.0.1:${c.dir}/up.bin`]);
    expect(up.code).toBe(0);
    expect(readFileSync(`${c.dir}/up.bin`)).toEqual(readFileSync(local));
    const down = await run(["scp", ...base, "-P", String(agent.sshPort), `root@127.0.0.1:${c.dir}/up.bin`, `${c.dir}/down.bin`]);
    expect(down.code).toBe(0);
    expect(readFileSync(`${c.dir}/down.bin`)).toEqual(readFileSync(local));
    const sftp = await run(["sftp", ...base, "-P", String(agent.sshPort), "-b", "-", "root@127.0.0.1"], { stdin: `get ${c.dir}/up.bin ${c.dir}/sftp.bin\n` });
    expect(sftp.code).toBe(0);
    expect(readFileSync(`${c.dir}/sftp.bin`)).toEqual(readFileSync(local));
  });
});

describe("certificate refusals", () => {
  const caKey = () => join(c.dir, "auth", "ssh", "user_ca");

  async function signWithClusterCa(name: string, args: string[]): Promise<SshUser> {
    const key = join(c.dir, `${name}_key`);
    await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key]);
    const r = await run(["ssh-keygen", "-q", "-s", caKey(), ...args, `${key}.pub`]);
    if (r.code !== 0) throw new Error(r.stderr);
    return { name, key, cert: `${key}-cert.pub` };
  }

  // Each refusal's kind is decided where the check fails and travels as data (log, metric, event).
  const cases: [string, string[], RegExp, string][] = [
    ["expired", ["-I", "alice", "-n", "root", "-V", "20200101:20200102"], /certificate expired/, "certificate"],
    ["not yet valid", ["-I", "alice", "-n", "root", "-V", "+1d:+2d"], /certificate not yet valid/, "certificate"],
    ["wrong principal", ["-I", "alice", "-n", "postgres", "-V", "-5m:+1h"], /login "root" is not a principal/, "certificate"],
    ["source address", ["-I", "alice", "-n", "root", "-V", "-5m:+1h", "-O", "source-address=10.9.9.0/24"], /source address .* not allowed/, "source_address"],
    ["unknown critical option", ["-I", "alice", "-n", "root", "-V", "-5m:+1h", "-O", "critical:hostward-unknown=1"], /unknown critical option/, "certificate"],
    ["unknown user", ["-I", "mallory", "-n", "root", "-V", "-5m:+1h"], /user "mallory" is not known/, "unknown_user"],
  ];
  for (const [name, args, reason, kind] of cases) {
    test(`${name} → refused, and the client, the log and the metric say why`, async () => {
      const user = await signWithClusterCa(name.replace(/\W/g, "_"), args);
      const r = await c.ssh(agent, user, "root", ["true"]);
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(reason);
      await waitFor(() => logLines(agent).some((l) => l.msg === "login refused" && reason.test(String(l.reason)) && l.kind === kind), 5000, "the refusal and its kind in the agent log");
      const metrics = await (await fetch(`http://127.0.0.1:${agent.diagPort}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`hostward_agent_rejections_total\\{reason="${kind}"\\} [1-9]`));
    });
  }

  test("a certificate from another CA is refused", async () => {
    const ca = join(c.dir, "rogue_ca");
    await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", ca]);
    const key = join(c.dir, "rogue_key");
    await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key]);
    await run(["ssh-keygen", "-q", "-s", ca, "-I", "alice", "-n", "root", "-V", "-5m:+1h", `${key}.pub`]);
    const r = await c.ssh(agent, { name: "rogue", key, cert: `${key}-cert.pub` }, "root", ["true"]);
    expect(r.code).toBe(255);
    expect(r.stderr).toContain("certificate not signed by a trusted CA");
  });

  test("a tampered certificate is refused", async () => {
    // OpenSSH's client will not even present a certificate whose signature is bad,
    // so a hostile client is played by ssh2 offering the tampered blob.
    const user = await signWithClusterCa("tampered", ["-I", "alice", "-n", "root", "-V", "-5m:+1h"]);
    const [type, b64] = readFileSync(user.cert, "utf8").trim().split(" ");
    const blob = Buffer.from(b64!, "base64");
    blob[blob.indexOf("alice") + 4] = "f".charCodeAt(0); // key id "alicf": the CA never signed that
    const banner = await offerRawCertificate(agent.sshPort, user.key, type!, blob);
    expect(banner).toContain("certificate signature does not verify");
  });

  test("a plain key is refused", async () => {
    const key = join(c.dir, "plain_key");
    await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key]);
    const r = await c.ssh(agent, { name: "plain", key, cert: "/nonexistent" }, "root", ["true"]);
    expect(r.code).toBe(255);
    expect(r.stderr).toContain("Permission denied (publickey)");
  });

  test("a login the role does not allow is refused", async () => {
    await c.createRole("web", `[allow]\nlogins = ["www-data", "root"]\n[deny]\nlogins = ["root"]`);
    const bob = await c.addUser("bob", ["web"]);
    const r = await c.ssh(agent, bob, "root", ["true"]);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/not a principal|denied by role "web"/);
  });
});

describe("cluster", () => {
  test("nodes ls shows the agent online with its labels", async () => {
    const nodes = JSON.parse(await c.ctlOk("nodes", "ls", "--format", "json"));
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).toMatchObject({ server_id: agent.serverId(), state: "online", labels: { env: "test" } });
  });

  test("an agent restart keeps its server UUID and needs no token", async () => {
    const before = agent.serverId();
    writeFileSync(agent.configPath, readFileSync(agent.configPath, "utf8").replace(/join_token = ".*"\n/, ""));
    await agent.restart();
    expect(agent.serverId()).toBe(before);
    const r = await c.ssh(agent, alice, "root", ["echo back"]);
    expect(r.stdout).toBe("back\n");
    expect(JSON.parse(await c.ctlOk("nodes", "ls", "--format", "json"))).toHaveLength(1);
  });

  test("get role prints JSON and TOML", async () => {
    const json = JSON.parse(await c.ctlOk("get", "role", "ops", "--format", "json"));
    expect(json).toMatchObject({ kind: "role", name: "ops", allow: { logins: ["root"] } });
    expect(await c.ctlOk("get", "role", "ops", "--format", "toml")).toContain('name = "ops"');
  });

  test("a bad resource file is refused with file, key and reason, exit 2", async () => {
    const f = join(c.dir, "bad-role.toml");
    writeFileSync(f, 'kind = "role"\nname = "bad"\n[options]\nmax_session_ttl = "10x"\n');
    const r = await c.ctl("create", "-f", f);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(`${f}: options.max_session_ttl:`);
  });

  test("status prints the CA pin and who you are", async () => {
    const out = await c.ctlOk("status");
    expect(out).toMatch(/CA pin: +sha256:[0-9a-f]{64}/);
    expect(out).toMatch(/You: +admin \(roles: admin\)/);
  });
});

function logLines(a: Agent): Record<string, unknown>[] {
  return a.proc.output().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}
