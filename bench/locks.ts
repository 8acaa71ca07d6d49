// Locks benchmark (issue 3): lock-to-cut latency over 200 live ssh sessions on 2
// agents, fan-out of a lock to 5,000 simulated agents with the auth service's RSS and
// CPU, and the cost of the lock check with 100,000 locks in the view.
// Writes bench/results/locks.json and prints a table.
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { measureLockCheck } from "./lock-check.ts";
import { measureLockCut } from "./lock-cut.ts";
import { measureFanout } from "./lock-fanout.ts";
import { locksReport, locksTable } from "./locks-report.ts";
import { machineInfo } from "./machine-info.ts";
import { busyShare, machineCpuTicks } from "./proc-usage.ts";
import { runCaptured } from "./run-captured.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RESULTS = join(ROOT, "bench", "results", "locks.json");

export async function run(): Promise<object> {
  const machine = await machineInfo(ROOT);
  const status = await runCaptured(["git", "status", "--porcelain", "--", "src"], 10_000, ROOT);
  const srcDirty = status.code !== 0 || status.stdout.trim() !== "";
  if (srcDirty) log("src/ has uncommitted changes: the cluster runs the working tree");
  const load: Record<string, number[]> = { start: loadavg() };
  const busy: Record<string, number> = {};
  let ticks = machineCpuTicks();
  const part = (name: string) => {
    const now = machineCpuTicks();
    busy[name] = Math.round(busyShare(ticks, now) * 1000) / 1000;
    ticks = now;
    load[`after${name[0]!.toUpperCase()}${name.slice(1)}`] = loadavg();
  };
  const cut = await measureLockCut(log);
  part("cut");
  const fanout = await measureFanout(log);
  part("fanout");
  const check = await measureLockCheck();
  part("check");
  const report = locksReport({ cut, fanout, check, load, busy }, machine, srcDirty);
  mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(report, null, 2) + "\n");
  console.log(locksTable(report));
  console.log(`\nwrote ${relative(process.cwd(), RESULTS) || RESULTS}`);
  return report;
}

function log(s: string): void {
  console.error(`[locks] ${s}`);
}
