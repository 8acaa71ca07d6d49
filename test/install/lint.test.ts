// install.sh stays POSIX sh: it parses under dash and bash, and shellcheck (when
// installed) finds nothing in it as sh.
import { expect, test } from "bun:test";
import { INSTALL_SH, run } from "./install-harness.ts";

test.each(["sh", "bash"])("%s -n install.sh parses it", (shell) => {
  const r = run([shell, "-n", INSTALL_SH]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
});

test.skipIf(!Bun.which("shellcheck"))("shellcheck -s sh finds nothing", () => {
  const r = run(["shellcheck", "-s", "sh", INSTALL_SH]);
  expect(r.stdout).toBe("");
  expect(r.code).toBe(0);
});

test("--help prints the usage and exits 0 for anyone", () => {
  const r = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", "sh", INSTALL_SH, "--help"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("install.sh --role agent --auth-server HOST[:3025][,HOST[:3025]...] --token TOKEN --ca-pin sha256:HEX");
});
