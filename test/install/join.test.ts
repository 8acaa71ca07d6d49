// The whole path an operator takes, on loopback: install.sh stages an auth service and
// an agent; the staged agent, run from its staged config, joins, shows online in
// `ctl nodes ls`, and takes an OpenSSH certificate login; locking its server UUID
// takes it out of the cluster (docs/operations.md).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { binaryUnderTest, cleanup, freePort, httpOk, install, run, scratch, Service, StagedAuth, waitFor } from "./install-harness.ts";

const T = 120_000;

let dir: string;
let auth: StagedAuth;
let agent: Service | undefined;
let root: string;
let sshPort: number;
let serverId: string;

beforeAll(async () => {
  dir = scratch("join");
  auth = new StagedAuth(dir, binaryUnderTest(dir));
  await auth.start();
}, T);

afterAll(async () => {
  await agent?.stop();
  await auth?.stop();
  if (dir) cleanup(dir);
});

interface NodeRow { server_id: string; state: string; labels: Record<string, string> }
const nodes = (): NodeRow[] => JSON.parse(auth.ctlOk("nodes", "ls", "--format", "json"));

/** ssh as root@127.0.0.1 with a certificate, trusting only the cluster's host CA. */
function ssh(key: string, command: string) {
  return run([
    "ssh", "-F", "/dev/null", "-i", key, "-o", `CertificateFile=${key}-cert.pub`, "-o", "IdentitiesOnly=yes",
    "-o", `UserKnownHostsFile=${join(dir, "known_hosts")}`, "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes",
    "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-p", String(sshPort), "root@127.0.0.1", command,
  ]);
}

test("the staged agent joins with install.sh's config, shows online, and takes an ssh login as root", async () => {
  root = join(dir, "agent-root");
  mkdirSync(root);
  sshPort = freePort();
  const diagPort = freePort();
  const t = auth.token();
  const r = install(["--role", "agent", "--root", root, "--binary", auth.binary, "--auth-server", auth.addr, "--token", t.token, "--ca-pin", t.ca_pin,
    "--labels", "env=test,team=install", "--ssh-listen", `127.0.0.1:${sshPort}`, "--diag-addr", `127.0.0.1:${diagPort}`]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);

  agent = new Service([join(root, "usr/local/bin/hostward"), "agent", "start", "--config", join(root, "etc/hostward/agent.toml")], join(dir, "agent.log"));
  await waitFor("the staged agent's /readyz", () => httpOk(`http://127.0.0.1:${diagPort}/readyz`))
    .catch((e) => { throw new Error(`${(e as Error).message}\n${agent!.output()}`); });
  const data = join(root, "var/lib/hostward/agent");
  expect(existsSync(join(data, "identity"))).toBe(true);
  serverId = readFileSync(join(data, "host_uuid"), "utf8").trim();
  const node = await waitFor(`node ${serverId} online`, () => nodes().find((n) => n.server_id === serverId && n.state === "online"));
  expect(node.labels).toEqual({ env: "test", team: "install" });

  writeFileSync(join(dir, "role.toml"), 'kind = "role"\nname = "install-root"\n[allow]\nlogins = ["root"]\n');
  auth.ctlOk("create", "-f", join(dir, "role.toml"));
  auth.ctlOk("users", "add", "installer", "--roles", "install-root");
  const key = join(dir, "id_ed25519");
  expect(run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "installer", "-f", key]).code).toBe(0);
  auth.ctlOk("users", "sign", "installer", "--pubkey", `${key}.pub`, "--out", `${key}-cert.pub`);
  writeFileSync(join(dir, "known_hosts"), auth.ctlOk("known-hosts"));

  const login = ssh(key, "echo logged in as $(id -un)");
  expect(login.stderr).not.toContain("Permission denied");
  expect(login.stdout.trim()).toBe("logged in as root");
  expect(login.code).toBe(0);
}, T);

test("locking the node's server UUID shows it as locked and refuses logins", async () => {
  if (!serverId) throw new Error("the join test did not get a node");
  const out = auth.ctlOk("lock", "--server-id", serverId, "--message", "decommissioned by install tests");
  expect(out).toMatch(/^Created a lock with name "[0-9a-f-]{36}"\./);
  await waitFor(`node ${serverId} locked`, () => nodes().find((n) => n.server_id === serverId && n.state === "locked"));
  const refused = await waitFor("ssh to be refused", () => {
    const r = ssh(join(dir, "id_ed25519"), "true");
    return r.code !== 0 ? r : undefined;
  });
  expect(refused.stderr).toContain(`lock targeting ServerID:"${serverId}" is in force: decommissioned by install tests`);
}, T);
