// install.sh --root: what each role puts where, with which modes and config; a second
// run changes nothing; --force, --upgrade, --uninstall and --purge; and a failure
// half-way through is undone.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseAgentConfig, parseAuthConfig, parseConfigText } from "../../src/core/config.ts";
import { binaryUnderTest, cleanup, freePort, install, modeOf, REPO, run, scratch, snapshot, StagedAuth, tree } from "./install-harness.ts";

let dir: string;
let bin: string;
let auth: StagedAuth;
let n = 0;
// Each run copies a ~110 MB binary; a busy machine needs more than bun's 5 s default.
const T = 60_000;

beforeAll(async () => {
  dir = scratch("staging");
  bin = binaryUnderTest(dir);
  auth = new StagedAuth(dir, bin);
  await auth.start();
}, 120_000);

afterAll(async () => {
  await auth?.stop();
  if (dir) cleanup(dir);
});

function newRoot(): string {
  const root = join(dir, `root-${++n}`);
  mkdirSync(root);
  return root;
}

function agentArgs(root: string, ...extra: string[]): string[] {
  const t = auth.token();
  return ["--role", "agent", "--root", root, "--binary", bin, "--auth-server", auth.addr, "--token", t.token, "--ca-pin", t.ca_pin, ...extra];
}

function ok(args: string[]): string {
  const r = install(args);
  if (r.code !== 0) throw new Error(`install.sh ${args.join(" ")}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  expect(r.stderr).toBe("");
  return r.stdout;
}

const sameBytes = (a: string, b: string) => run(["cmp", "-s", a, b]).code === 0;

const COMMON_TREE = [
  "0755 etc", "0755 etc/hostward", "0755 etc/systemd", "0755 etc/systemd/system",
  "0755 usr", "0755 usr/local", "0755 usr/local/bin", "0755 usr/local/bin/hostward",
  "0755 var", "0755 var/lib", "0700 var/lib/hostward",
];

describe("--role auth", () => {
  test("installs the binary, auth.toml (0600), /var/lib/hostward (0700) and the unit", () => {
    const root = newRoot();
    const out = ok(["--role", "auth", "--root", root, "--binary", bin]);
    expect(tree(root)).toEqual([...COMMON_TREE, "0600 etc/hostward/auth.toml", "0644 etc/systemd/system/hostward-auth.service", "0700 var/lib/hostward/auth"].sort());
    expect(sameBytes(bin, join(root, "usr/local/bin/hostward"))).toBe(true);
    expect(readFileSync(join(root, "etc/systemd/system/hostward-auth.service"), "utf8")).toBe(readFileSync(join(REPO, "systemd/hostward-auth.service"), "utf8"));
    const file = join(root, "etc/hostward/auth.toml");
    const cfg = parseAuthConfig(parseConfigText(readFileSync(file, "utf8"), file), file);
    expect(cfg).toEqual({
      dataDir: `${root}/var/lib/hostward/auth`,
      listen: { host: "0.0.0.0", port: 3025 },
      clusterName: "hostward",
      diagAddr: { host: "127.0.0.1", port: 3001 },
      logLevel: "info",
      recordings: { storage: `file://${root}/var/lib/hostward/auth/recordings`, shared: false },
      store: { url: `sqlite://${root}/var/lib/hostward/auth/auth.db`, pool: 10 },
    });
    expect(out).toContain(`staged under ${root}; systemd left alone (--root)`);
  }, T);

  test("takes listen, cluster name, public address and diag address from flags", () => {
    const root = newRoot();
    ok(["--role", "auth", "--root", root, "--binary", bin, "--listen", "10.0.0.5:443", "--cluster-name", "prod-1",
      "--public-addr", "auth.example.com:443", "--diag-addr", "off"]);
    const file = join(root, "etc/hostward/auth.toml");
    const cfg = parseAuthConfig(parseConfigText(readFileSync(file, "utf8"), file), file);
    expect(cfg.listen).toEqual({ host: "10.0.0.5", port: 443 });
    expect(cfg.clusterName).toBe("prod-1");
    expect(cfg.publicAddr).toBe("auth.example.com:443");
    expect(cfg.diagAddr).toBeUndefined();
  }, T);
});

describe("--role agent", () => {
  test("installs the binary, agent.toml (0600) from the flags, the data dir (0700) and the unit", () => {
    const root = newRoot();
    const args = agentArgs(root, "--labels", "env=prod,team=db");
    const out = ok(args);
    expect(out).toContain(`auth server ${auth.addr} answers and its CA matches the pin`);
    expect(tree(root)).toEqual([...COMMON_TREE, "0600 etc/hostward/agent.toml", "0644 etc/systemd/system/hostward-agent.service", "0700 var/lib/hostward/agent"].sort());
    expect(readFileSync(join(root, "etc/systemd/system/hostward-agent.service"), "utf8")).toBe(readFileSync(join(REPO, "systemd/hostward-agent.service"), "utf8"));
    const file = join(root, "etc/hostward/agent.toml");
    const cfg = parseAgentConfig(parseConfigText(readFileSync(file, "utf8"), file), file);
    expect(cfg).toEqual({
      dataDir: `${root}/var/lib/hostward/agent`,
      authServer: { host: "127.0.0.1", port: auth.port },
      joinToken: args[args.indexOf("--token") + 1]!,
      caPin: args[args.indexOf("--ca-pin") + 1]!,
      diagAddr: { host: "127.0.0.1", port: 3002 },
      logLevel: "info",
      ssh: { listen: { host: "0.0.0.0", port: 3022 }, labels: { env: "prod", team: "db" }, loginGraceTime: cfg.ssh.loginGraceTime, maxStartups: 100 },
      recording: { notice: "interactive", minFree: 2 ** 30, syncTimeout: cfg.recording.syncTimeout, recordStdin: false },
    });
    expect(Number(cfg.recording.syncTimeout)).toBe(30_000);
  }, T);

  test("an upper-case pin is accepted and written in lower case; an auth server without a port gets 3025", () => {
    const root = newRoot();
    const t = auth.token();
    ok(["--role", "agent", "--root", root, "--binary", bin, "--auth-server", auth.addr, "--token", t.token, "--ca-pin", t.ca_pin.toUpperCase().replace("SHA256", "sha256")]);
    expect(readFileSync(join(root, "etc/hostward/agent.toml"), "utf8")).toContain(`ca_pin = "${t.ca_pin}"`);
    const r = install(["--role", "agent", "--root", newRoot(), "--binary", bin, "--auth-server", "127.0.0.1", "--token", t.token, "--ca-pin", t.ca_pin]);
    // Whether or not something answers on 3025 here, that is where the pin check went.
    expect(r.stderr).toContain("auth server 127.0.0.1:3025");
  }, T);
  test("several replicas: each address checked, an unreachable one said and skipped, auth_servers written", () => {
    const root = newRoot();
    const t = auth.token();
    const dead = `127.0.0.1:${freePort()}`;
    const out = ok(["--role", "agent", "--root", root, "--binary", bin, "--auth-server", `${dead},${auth.addr}`, "--token", t.token, "--ca-pin", t.ca_pin]);
    expect(out).toContain(`warning: cannot reach auth server ${dead}`);
    expect(out).toContain(`auth server ${auth.addr} answers and its CA matches the pin`);
    const file = join(root, "etc/hostward/agent.toml");
    const cfg = parseAgentConfig(parseConfigText(readFileSync(file, "utf8"), file), file);
    expect(cfg.authServers?.map((a) => `${a.host}:${a.port}`)).toEqual([dead, auth.addr]);
    // None reachable: refused, nothing installed.
    const none = newRoot();
    const r = install(["--role", "agent", "--root", none, "--binary", bin, "--auth-server", `${dead},127.0.0.1:${freePort()}`, "--token", t.token, "--ca-pin", t.ca_pin]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(`cannot reach auth server ${dead}`);
    expect(existsSync(join(none, "etc/hostward/agent.toml"))).toBe(false);
  }, T);
});

describe("idempotence", () => {
  test("a second run with the same flags changes nothing and says so, for both roles", () => {
    const root = newRoot();
    const authArgs = ["--role", "auth", "--root", root, "--binary", bin];
    const agent = agentArgs(root, "--labels", "env=prod");
    ok(authArgs);
    ok(agent);
    const before = snapshot(root);
    expect(ok(authArgs)).toContain("hostward auth is already installed; nothing changed");
    expect(ok(agent)).toContain("hostward agent is already installed; nothing changed");
    expect(snapshot(root)).toEqual(before);
  }, T);

  test("an existing config is kept (and the run says so) unless --force", () => {
    const root = newRoot();
    ok(agentArgs(root, "--labels", "env=prod"));
    const conf = join(root, "etc/hostward/agent.toml");
    const original = readFileSync(conf, "utf8");
    const kept = ok(agentArgs(root, "--labels", "env=staging"));
    expect(kept).toContain(`kept ${conf}: it exists and differs from what these flags would write (--force replaces it)`);
    expect(readFileSync(conf, "utf8")).toBe(original);
    const forced = ok(agentArgs(root, "--labels", "env=staging", "--force"));
    expect(forced).toContain(`replaced ${conf}`);
    expect(readFileSync(conf, "utf8")).toContain('labels = { "env" = "staging" }');
    expect(modeOf(conf)).toBe("0600");
  }, T);

  test("modes that drifted are put back", () => {
    const root = newRoot();
    ok(["--role", "auth", "--root", root, "--binary", bin]);
    chmodSync(join(root, "var/lib/hostward"), 0o755);
    chmodSync(join(root, "etc/hostward/auth.toml"), 0o644);
    const out = ok(["--role", "auth", "--root", root, "--binary", bin]);
    expect(out).not.toContain("nothing changed");
    expect(modeOf(join(root, "var/lib/hostward"))).toBe("0700");
    expect(modeOf(join(root, "etc/hostward/auth.toml"))).toBe("0600");
  }, T);
});

describe("--upgrade", () => {
  test("a different build is refused without --upgrade, then swapped in by it; config stays", () => {
    const root = newRoot();
    ok(["--role", "auth", "--root", root, "--binary", bin]);
    const next = join(dir, `next-${n}`);
    writeFileSync(next, `#!/bin/sh\nexec ${bin} "$@"\n`, { mode: 0o755 });
    const before = snapshot(root);
    const refused = install(["--role", "auth", "--root", root, "--binary", next]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^install\.sh: .*usr\/local\/bin\/hostward is a different build .*: use --upgrade to replace it/);
    expect(snapshot(root)).toEqual(before);

    const up = ok(["--upgrade", "--root", root, "--binary", next]);
    expect(up).toContain(`replaced ${root}/usr/local/bin/hostward`);
    expect(sameBytes(next, join(root, "usr/local/bin/hostward"))).toBe(true);
    expect(modeOf(join(root, "usr/local/bin/hostward"))).toBe("0755");
    expect(readFileSync(join(root, "etc/hostward/auth.toml"), "utf8")).toBe(before.find((e) => e.path === "etc/hostward/auth.toml")!.content!);
    expect(ok(["--upgrade", "--root", root, "--binary", next])).toContain("nothing changed");
  }, T);
});

describe("--uninstall", () => {
  test("removes the unit and the binary, keeps config and data; --purge removes those too", () => {
    const root = newRoot();
    ok(agentArgs(root));
    const uuid = "0b0e5b5e-1c1d-4a4b-8f8f-123456789abc";
    writeFileSync(join(root, "var/lib/hostward/agent/host_uuid"), uuid + "\n");
    const out = ok(["--uninstall", "--root", root]);
    expect(out).toContain(`node ${uuid} stays registered in the cluster: take it out with: hostward ctl lock --server-id ${uuid}`);
    expect(tree(root).filter((p) => p.includes("hostward"))).toEqual([
      "0755 etc/hostward", "0600 etc/hostward/agent.toml", "0700 var/lib/hostward", "0700 var/lib/hostward/agent", "0644 var/lib/hostward/agent/host_uuid",
    ].sort());
    expect(ok(["--uninstall", "--root", root])).toContain("hostward is not installed here; nothing to do");

    ok(["--uninstall", "--purge", "--root", root]);
    // What is left are the empty system directories a real host has anyway.
    expect(tree(root)).toEqual(["0755 etc", "0755 etc/systemd", "0755 etc/systemd/system", "0755 usr", "0755 usr/local", "0755 usr/local/bin", "0755 var", "0755 var/lib"].sort());
  }, T);

  test("with both roles installed, --role agent keeps the binary the auth service still uses", () => {
    const root = newRoot();
    ok(["--role", "auth", "--root", root, "--binary", bin]);
    ok(agentArgs(root));
    const out = ok(["--uninstall", "--role", "agent", "--purge", "--root", root]);
    expect(out).toContain(`kept ${root}/usr/local/bin/hostward: hostward-auth.service still uses it`);
    expect(existsSync(join(root, "etc/systemd/system/hostward-agent.service"))).toBe(false);
    expect(existsSync(join(root, "etc/hostward/agent.toml"))).toBe(false);
    expect(existsSync(join(root, "var/lib/hostward/agent"))).toBe(false);
    expect(existsSync(join(root, "etc/systemd/system/hostward-auth.service"))).toBe(true);
    expect(existsSync(join(root, "etc/hostward/auth.toml"))).toBe(true);

    ok(["--uninstall", "--role", "auth", "--root", root]);
    expect(existsSync(join(root, "usr/local/bin/hostward"))).toBe(false);
    expect(existsSync(join(root, "etc/hostward/auth.toml"))).toBe(true);
  }, T);
});

test("a failure half-way through undoes what the run had changed", () => {
  const root = newRoot();
  mkdirSync(join(root, "etc"));
  writeFileSync(join(root, "etc/systemd"), "in the way\n");
  const before = snapshot(root, { dirTimes: false });
  const r = install(["--role", "auth", "--root", root, "--binary", bin]);
  expect(r.code).not.toBe(0);
  expect(r.stdout).toContain(`installed ${root}/usr/local/bin/hostward`);
  expect(r.stderr).toContain("install.sh: failed; the changes above were undone");
  expect(snapshot(root, { dirTimes: false })).toEqual(before);
}, T);
