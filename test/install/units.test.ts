// The systemd units: `systemd-analyze verify` on both as install.sh stages them (no
// warnings at all), the auth service's sandbox score, and the decisions each unit
// carries (restart policy, KillMode, limits, what is hardened and what must not be).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { binaryUnderTest, cleanup, install, REPO, run, scratch } from "./install-harness.ts";

const T = 60_000;

/** systemd-analyze, installed with apt-get when missing (Debian's systemd package has it). */
function systemdAnalyze(): string | undefined {
  const found = Bun.which("systemd-analyze");
  if (found || process.getuid?.() !== 0 || !Bun.which("apt-get")) return found ?? undefined;
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  let r = Bun.spawnSync(["apt-get", "install", "-y", "-q", "systemd"], { env, stdout: "ignore", stderr: "ignore" });
  if (r.exitCode !== 0) {
    Bun.spawnSync(["apt-get", "update", "-q"], { env, stdout: "ignore", stderr: "ignore" });
    r = Bun.spawnSync(["apt-get", "install", "-y", "-q", "systemd"], { env, stdout: "ignore", stderr: "ignore" });
  }
  return Bun.which("systemd-analyze") ?? undefined;
}

const ANALYZE = systemdAnalyze();
// Without systemd-analyze these tests are skipped on a developer machine, never in CI.
const skip = !ANALYZE && !process.env.CI;
const SYSTEM_UNITS = ["/usr/lib/systemd/system", "/lib/systemd/system"].find((d) => Bun.file(join(d, "sysinit.target")).size > 0);

let dir: string;
let root: string;

beforeAll(() => {
  if (skip) return;
  if (!ANALYZE) throw new Error("systemd-analyze is missing and apt-get install systemd did not provide it");
  dir = scratch("units");
  root = join(dir, "root");
  mkdirSync(root);
  const r = install(["--role", "auth", "--root", root, "--binary", binaryUnderTest(dir)]);
  if (r.code !== 0) throw new Error(`install.sh --role auth: ${r.stderr}`);
  // The agent role needs an auth server to check its pin against; its unit file is
  // the same bytes install.sh would copy (staging.test.ts checks that).
  copyFileSync(join(REPO, "systemd/hostward-agent.service"), join(root, "etc/systemd/system/hostward-agent.service"));
  // verify --root resolves every dependency (sysinit.target, network-online.target …) inside the root.
  if (!SYSTEM_UNITS) throw new Error("no systemd unit directory with sysinit.target on this machine");
  cpSync(SYSTEM_UNITS, join(root, "usr/lib/systemd/system"), { recursive: true, verbatimSymlinks: true });
  // The same tree without the binary, to show verify would notice.
  cpSync(root, join(dir, "no-binary"), { recursive: true, verbatimSymlinks: true, filter: (src) => !src.endsWith("/usr/local/bin/hostward") });
}, 120_000);

afterAll(() => {
  if (dir) cleanup(dir);
});

describe.skipIf(skip)("systemd-analyze", () => {
  test("verify passes with no warnings for both units, ExecStart resolved inside the staged root", () => {
    const r = run([ANALYZE!, "verify", `--root=${root}`, "hostward-agent.service", "hostward-auth.service"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("");
    expect(r.code).toBe(0);
  }, T);

  test("verify notices a missing binary (the check above is not vacuous)", () => {
    const r = run([ANALYZE!, "verify", `--root=${join(dir, "no-binary")}`, "hostward-auth.service"]);
    expect(r.stderr).toContain("Command /usr/local/bin/hostward is not executable");
    expect(r.code).not.toBe(0);
  }, T);

  test("the auth service's sandbox rates OK or better; the agent's is deliberately open", () => {
    const exposure = (unit: string) => {
      const r = run([ANALYZE!, "security", "--offline=true", `--root=${root}`, "--no-pager", unit]);
      const m = /Overall exposure level for \S+: (\d+\.\d+)/.exec(r.stdout);
      if (!m) throw new Error(`no exposure level in: ${r.stdout.slice(-500)} ${r.stderr}`);
      return Number(m[1]);
    };
    expect(exposure("hostward-auth.service")).toBeLessThanOrEqual(3.0);
    expect(exposure("hostward-agent.service")).toBeGreaterThan(8.0);
  }, T);
});

/** The unit's settings as "Key=value" lines, comments dropped. */
function settings(name: string): string[] {
  return readFileSync(join(REPO, "systemd", name), "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#") && !l.startsWith("["));
}

describe("unit decisions", () => {
  const both: string[] = [
    "Restart=on-failure", "RestartSec=5s", "RestartPreventExitStatus=2", "LimitNOFILE=65536",
    "StandardOutput=journal", "StandardError=journal", "WantedBy=multi-user.target", "After=network-online.target",
  ];
  test.each(["hostward-agent.service", "hostward-auth.service"])("%s restarts on failure, logs to the journal and has no ExecReload", (name) => {
    const s = settings(name);
    for (const line of both) expect(s).toContain(line);
    expect(s).toContain(`ExecStart=/usr/local/bin/hostward ${name.includes("agent") ? "agent" : "auth"} start --config /etc/hostward/${name.includes("agent") ? "agent" : "auth"}.toml`);
    expect(s.some((l) => l.startsWith("ExecReload="))).toBe(false);
  });

  test("the agent: KillMode=mixed, no per-unit task cap, OOM kills of users' processes do not stop it, no sandbox", () => {
    const s = settings("hostward-agent.service");
    for (const line of ["KillMode=mixed", "TasksMax=infinity", "OOMPolicy=continue", "StartLimitIntervalSec=0"]) expect(s).toContain(line);
    const breaksLogins = /^(ProtectSystem|ProtectHome|PrivateTmp|PrivateDevices|NoNewPrivileges|RestrictSUIDSGID|CapabilityBoundingSet|SystemCallFilter|RestrictNamespaces|MemoryDenyWriteExecute|ProtectKernel\w+|ProtectClock|ProtectHostname|ProtectControlGroups|LockPersonality|RestrictAddressFamilies|UMask|User|DynamicUser)=/;
    expect(s.filter((l) => breaksLogins.test(l))).toEqual([]);
  });

  test("the auth service: sandboxed, writes only its state directory, never MemoryDenyWriteExecute (Bun's JIT)", () => {
    const s = settings("hostward-auth.service");
    for (const line of [
      "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes", "NoNewPrivileges=yes",
      "CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "StateDirectory=hostward/auth", "StateDirectoryMode=0700", "UMask=0077",
      "SystemCallFilter=@system-service", "RestrictNamespaces=yes",
    ]) expect(s).toContain(line);
    expect(s.some((l) => l.startsWith("MemoryDenyWriteExecute="))).toBe(false);
  });
});
