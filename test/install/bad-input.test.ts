// Bad input to install.sh: missing or conflicting flags, a pin that does not match,
// an auth server that cannot be reached, a binary that does not run, an unsupported
// machine, a non-root run. Each is one line on stderr, a non-zero exit, and an
// untouched staging root.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { binaryUnderTest, cleanup, freePort, install, scratch, snapshot, StagedAuth } from "./install-harness.ts";

let dir: string;
let bin: string;
let auth: StagedAuth;
let pin: string;
let n = 0;
const T = 60_000;
const TOKEN = "0123456789abcdef0123456789abcdef0123456789abcdef";
const OTHER_ARCH = process.arch === "arm64" ? { name: "x86_64", machine: 0x3e } : { name: "aarch64", machine: 0xb7 };

beforeAll(async () => {
  dir = scratch("bad-input");
  bin = binaryUnderTest(dir);
  auth = new StagedAuth(dir, bin);
  await auth.start();
  pin = auth.token().ca_pin;
  writeFileSync(join(dir, "garbage"), "\x7fELF but not really\n", { mode: 0o755 });
  writeFileSync(join(dir, "failing"), "#!/bin/sh\necho 'cannot open shared object' >&2\nexit 127\n", { mode: 0o755 });
  // The real binary's ELF header, claiming the other supported architecture.
  const header = Buffer.from(readFileSync(bin).subarray(0, 64));
  header.writeUInt16LE(OTHER_ARCH.machine, 18);
  writeFileSync(join(dir, "other-arch"), header, { mode: 0o755 });
  writeFileSync(join(dir, "not-hostward"), "#!/bin/sh\necho something else\n", { mode: 0o755 });
  writeFileSync(join(dir, "not-executable"), "#!/bin/sh\n", { mode: 0o644 });
  mkdirSync(join(dir, "stub-bin"));
  writeFileSync(join(dir, "stub-bin/uname"), '#!/bin/sh\ncase "$1" in -m) echo mips ;; *) echo Linux ;; esac\n', { mode: 0o755 });
}, 120_000);

afterAll(async () => {
  await auth?.stop();
  if (dir) cleanup(dir);
});

function emptyRoot(): string {
  const root = join(dir, `root-${++n}`);
  mkdirSync(root);
  return root;
}

/** Runs install.sh and checks the failure shape: exit code, one stderr line, nothing written. */
function refused(args: (root: string) => string[], code: number, message: RegExp, opts: Parameters<typeof install>[1] = {}): void {
  const root = emptyRoot();
  const r = install(args(root), opts);
  // Exactly one line, "install.sh: …", saying what is wrong.
  expect(r.stderr).toMatch(new RegExp(`^install\\.sh: [^\\n]*(${message.source})[^\\n]*\\n$`));
  expect(r.code).toBe(code);
  expect(readdirSync(root)).toEqual([]);
}

const agent = (root: string, ...extra: string[]) =>
  ["--role", "agent", "--root", root, "--binary", bin, "--auth-server", auth.addr, "--token", TOKEN, "--ca-pin", pin, ...extra];

describe("missing and conflicting flags (exit 2)", () => {
  const cases: [string, (root: string) => string[], RegExp][] = [
    ["no role", (root) => ["--root", root], /--role agent or --role auth is required/],
    ["an unknown role", (root) => ["--role", "node", "--root", root], /--role must be agent or auth, got "node"/],
    ["an unknown flag", (root) => ["--role", "auth", "--root", root, "--bogus"], /unknown argument "--bogus"/],
    ["a flag without its value", (root) => ["--role", "agent", "--root", root, "--token"], /--token needs a value/],
    ["a flag whose value is the next flag", (root) => ["--role", "agent", "--root", root, "--token", "--ca-pin", pin], /--token needs a value, got "--ca-pin"/],
    ["a flag given twice", (root) => ["--role", "agent", "--role", "auth", "--root", root], /--role given twice/],
    ["agent without --auth-server", (root) => ["--role", "agent", "--root", root, "--binary", bin, "--token", TOKEN, "--ca-pin", pin], /--auth-server is required for --role agent/],
    ["agent without --token", (root) => ["--role", "agent", "--root", root, "--binary", bin, "--auth-server", auth.addr, "--ca-pin", pin], /--token is required for --role agent/],
    ["agent without --ca-pin", (root) => ["--role", "agent", "--root", root, "--binary", bin, "--auth-server", auth.addr, "--token", TOKEN], /--ca-pin is required for --role agent/],
    ["an agent flag with --role auth", (root) => ["--role", "auth", "--root", root, "--token", TOKEN], /--token is for --role agent, not --role auth/],
    ["an auth flag with --role agent", (root) => [...agent(root), "--listen", "0.0.0.0:3025"], /--listen is for --role auth, not --role agent/],
    ["--upgrade with --uninstall", (root) => ["--upgrade", "--uninstall", "--root", root], /--upgrade and --uninstall conflict/],
    ["--purge without --uninstall", (root) => ["--role", "auth", "--purge", "--root", root], /--purge goes only with --uninstall/],
    ["--force with --uninstall", (root) => ["--uninstall", "--force", "--root", root], /--force does not go with --uninstall/],
    ["config flags with --upgrade", (root) => ["--upgrade", "--token", TOKEN, "--root", root], /--token does not go with --upgrade/],
    ["a malformed pin", (root) => agent(root).map((a) => (a === pin ? "sha256:abc" : a)), /--ca-pin: expected sha256: and 64 hex digits/],
    ["a malformed auth server", (root) => agent(root).map((a) => (a === auth.addr ? "https://auth:3025" : a)), /--auth-server: expected HOST or HOST:PORT, got "https:\/\/auth:3025"/],
    ["an empty address in a replica list", (root) => agent(root).map((a) => (a === auth.addr ? `${auth.addr},,b:3025` : a)), /--auth-server: an empty address in/],
    ["a malformed replica in a list", (root) => agent(root).map((a) => (a === auth.addr ? `${auth.addr},b:99999` : a)), /--auth-server: expected HOST or HOST:PORT, got "b:99999"/],
    ["a replica listed twice", (root) => agent(root).map((a) => (a === auth.addr ? `b,${auth.addr},b:3025` : a)), /--auth-server: b:3025 is listed twice/],
    ["a port out of range", (root) => agent(root, "--ssh-listen", "0.0.0.0:70000"), /--ssh-listen: expected HOST:PORT, got "0.0.0.0:70000"/],
    ["labels that are not KEY=VALUE", (root) => agent(root, "--labels", "env=prod,oops"), /--labels: "oops" is not KEY=VALUE/],
    ["a label with a quote", (root) => agent(root, "--labels", 'env=pr"od'), /--labels: "env=pr"od" is not KEY=VALUE/],
    ["a label given twice", (root) => agent(root, "--labels", "env=a,env=b"), /--labels: "env" given twice/],
    ["a --root that does not exist", () => ["--role", "auth", "--root", join(dir, "nope")], /--root .*nope: no such directory/],
    ["--root /", () => ["--role", "auth", "--root", "/"], /--root \/: leave --root off/],
    ["a --binary that is not executable", (root) => ["--role", "auth", "--root", root, "--binary", join(dir, "not-executable")], /--binary .*not-executable: not an executable file/],
  ];
  test.each(cases)("%s", (_, args, message) => refused(args, 2, message), T);
});

describe("failed checks (exit 1)", () => {
  test("a pin that does not match the auth server's CA", () => {
    const other = "sha256:" + "0".repeat(64);
    refused((root) => agent(root).map((a) => (a === pin ? other : a)), 1,
      new RegExp(`auth server ${auth.addr} has CA pin ${pin}, not ${other}: refusing to trust it`));
  }, T);

  test("an auth server nobody listens on", () => {
    const port = freePort();
    refused((root) => agent(root).map((a) => (a === auth.addr ? `127.0.0.1:${port}` : a)), 1,
      new RegExp(`cannot reach auth server 127\\.0\\.0\\.1:${port}: .+`));
  }, T);

  test("an address that answers but is not a hostward auth service (plain HTTP)", () => {
    refused((root) => agent(root).map((a) => (a === auth.addr ? `127.0.0.1:${auth.diagPort}` : a)), 1,
      new RegExp(`cannot reach auth server 127\\.0\\.0\\.1:${auth.diagPort}: .+`));
  }, T);

  test("a binary built for another architecture", () => {
    refused((root) => ["--role", "auth", "--root", root, "--binary", join(dir, "other-arch")], 1, new RegExp(`other-arch is built for ${OTHER_ARCH.name}, and this host is `));
  }, T);

  test("a file that is not an executable for this host", () => {
    refused((root) => ["--role", "auth", "--root", root, "--binary", join(dir, "garbage")], 1, /garbage is not an executable for this host/);
  }, T);

  test("a binary that fails to run", () => {
    refused((root) => ["--role", "auth", "--root", root, "--binary", join(dir, "failing")], 1, /failing does not run on this host: cannot open shared object/);
  }, T);

  test("a binary that runs but is not hostward", () => {
    refused((root) => ["--role", "auth", "--root", root, "--binary", join(dir, "not-hostward")], 1, /not-hostward is not hostward: `.*not-hostward version` printed "something else"/);
  }, T);

  test("an unsupported architecture", () => {
    refused((root) => ["--role", "auth", "--root", root, "--binary", bin], 1, /unsupported architecture mips: hostward runs on x86_64 and aarch64/,
      { env: { PATH: `${join(dir, "stub-bin")}:${process.env.PATH}` } });
  }, T);

  test("a run as someone other than root", () => {
    chmodSync(dir, 0o755);
    refused((root) => ["--role", "auth", "--root", root, "--binary", bin], 1, /must run as root/,
      { prefix: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] });
  }, T);

  test("--upgrade where nothing is installed", () => {
    refused((root) => ["--upgrade", "--root", root, "--binary", bin], 1, /hostward is not installed at .*: run without --upgrade to install it/);
  }, T);
});

test("a refused run leaves an existing installation exactly as it was", () => {
  const root = emptyRoot();
  const t = auth.token();
  const good = ["--role", "agent", "--root", root, "--binary", bin, "--auth-server", auth.addr, "--token", t.token, "--ca-pin", t.ca_pin];
  expect(install(good).code).toBe(0);
  const before = snapshot(root);
  const bad = install(good.map((a) => (a === t.ca_pin ? "sha256:" + "f".repeat(64) : a)).concat("--force"));
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain("refusing to trust it");
  expect(snapshot(root)).toEqual(before);
}, T);
