// Every `bun test` run builds dist/hostward once, first: the integration tests run the
// binary we ship (minified, bundled, workers embedded), never the sources.
import { setDefaultTimeout } from "bun:test";
import { ROOT } from "./helpers/process.ts";

// Integration tests start real processes on a 2-core machine: the 5 s default is too short.
setDefaultTimeout(120_000);

if (!process.env.HOSTWARD_TEST_BUILT) {
  const b = Bun.spawnSync(["sh", `${ROOT}/scripts/build.sh`], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (b.exitCode !== 0) throw new Error(`scripts/build.sh failed: ${b.stderr.toString().slice(-2000)}`);
  process.env.HOSTWARD_TEST_BUILT = "1";
}
