// Foundation benchmark: hostward's agent beside OpenSSH's sshd on loopback, measured in
// the same run — login latency (`ssh node true`) and exec stdout throughput (1 GiB).
// Writes bench/results/foundation.json and prints a table.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { foundationReport, foundationTable, type Measurements } from "./foundation-report.ts";
import { hostwardCommand } from "./hostward-build.ts";
import { recordingOff, startHostward, type HostwardCluster } from "./hostward-cluster.ts";
import { loginName } from "./login-name.ts";
import { machineInfo } from "./machine-info.ts";
import { loginMs, negotiated, streamThroughput, type SshTarget, type StreamResult } from "./ssh-client.ts";
import { ensureSshd, startSshd, type Sshd } from "./sshd.ts";
import { cpuSeconds, settledCpu } from "./proc-usage.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RESULTS = join(ROOT, "bench", "results", "foundation.json");
const LOGIN_RUNS = 100;
const LOGIN_WARMUP = 3;
const LOGIN_TIMEOUT_MS = 10_000;
const LOGIN_BUDGET_MS = 150_000;
const STREAM_BYTES = 1024 * 1024 * 1024;
const STREAM_ROUNDS = 3;
const STREAM_TIMEOUT_MS = 120_000;
const STREAM_BUDGET_MS = 150_000;

export async function run(): Promise<object> {
  const source = process.env.HOSTWARD_BENCH_SOURCE === "head" ? "head" : "worktree";
  await ensureSshd();
  const machine = await machineInfo(ROOT);
  const loadStart = loadavg();
  const dir = mkdtempSync(join(tmpdir(), "hostward-bench-"));
  let hw: HostwardCluster | undefined;
  let sshd: Sshd | undefined;
  try {
    const hostward = await hostwardCommand(ROOT, source, dir);
    log(`hostward: ${hostward.mode} from ${source} (${hostward.note})${hostward.srcDirty ? "; src/ has uncommitted changes" : ""}`);
    hw = await startHostward(join(dir, "hostward"), hostward, ROOT);
    await recordingOff(join(dir, "hostward"), hostward);
    mkdirSync(join(dir, "sshd"), { mode: 0o700 });
    sshd = await startSshd(join(dir, "sshd"), await loginName());
    const hwPid = hw.service.proc.pid;
    const sshdPid = sshd.service.proc.pid;
    const cpu: ServerCpu = { hostward: () => cpuSeconds(hwPid, false), sshd: () => cpuSeconds(sshdPid, true) };
    const m = await measure(hw.target, sshd.target, cpu).catch((e: Error) => {
      const hint = hostward.srcDirty && source === "worktree" ? " (src/ has uncommitted changes; HOSTWARD_BENCH_SOURCE=head benchmarks HEAD instead)" : "";
      throw new Error(e.message + hint);
    });
    // CPU seconds per GiB move much less with other load than MiB/s do; the load says how much to trust the rest.
    const report = { ...foundationReport(m, machine, hostward), loadAverage: { start: loadStart.map(r2), end: loadavg().map(r2) } };
    mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
    writeFileSync(RESULTS, JSON.stringify(report, null, 2) + "\n");
    console.log(`load average ${report.loadAverage.start.join(" ")} -> ${report.loadAverage.end.join(" ")}\n`);
    console.log(foundationTable(report));
    console.log(`\nwrote ${relative(process.cwd(), RESULTS) || RESULTS}`);
    return report;
  } finally {
    await hw?.service.stop();
    await sshd?.service.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CPU seconds a server has used so far: hostward's own process; sshd's reaped children (one per connection). */
export interface ServerCpu {
  hostward: () => number;
  sshd: () => number;
}

async function measure(hostward: SshTarget, sshd: SshTarget, cpu: ServerCpu): Promise<Measurements> {
  const hw = await negotiated(hostward, LOGIN_TIMEOUT_MS);
  // The same sshd with the client limited to what hostward negotiates (hostward offers
  // fewer algorithms), to tell the cost of the algorithms from the cost of the server.
  const options = ["-o", `KexAlgorithms=${hw.kex}`, "-o", `HostKeyAlgorithms=${hw.hostKey}`, "-o", `Ciphers=${hw.cipher}`];
  const matched: SshTarget = { ...sshd, name: "sshd-matched", clientOptions: options };
  const algorithms = { hostward: hw, sshd: await negotiated(sshd, LOGIN_TIMEOUT_MS), sshdMatched: await negotiated(matched, LOGIN_TIMEOUT_MS) };
  for (const [name, a] of Object.entries(algorithms)) log(`${name}: kex ${a.kex}, host key ${a.hostKey}, cipher ${a.cipher}`);
  const logins = await interleavedLogins([hostward, sshd, matched]);
  const streams = await interleavedStreams([hostward, sshd, matched], [cpu.hostward, cpu.sshd, cpu.sshd]);
  return {
    algorithms,
    login: { warmup: LOGIN_WARMUP, hostward: logins[0]!, sshd: logins[1]!, sshdMatched: logins[2]! },
    stream: { bytes: STREAM_BYTES, hostward: streams[0]!, sshd: streams[1]!, sshdMatched: streams[2]! },
  };
}

/** `ssh node true` against each target in turn, the order reversed every other round. */
async function interleavedLogins(targets: SshTarget[]): Promise<number[][]> {
  const samples = targets.map(() => [] as number[]);
  const deadline = performance.now() + LOGIN_BUDGET_MS;
  for (let round = 0; round < LOGIN_WARMUP + LOGIN_RUNS; round++) {
    if (performance.now() > deadline) {
      log(`login: time budget of ${LOGIN_BUDGET_MS / 1000} s used up after ${round} rounds`);
      break;
    }
    const order = round % 2 === 0 ? targets.keys() : [...targets.keys()].reverse();
    for (const i of order) {
      const ms = await loginMs(targets[i]!, LOGIN_TIMEOUT_MS);
      if (round >= LOGIN_WARMUP) samples[i]!.push(ms);
    }
  }
  log(`login: ${samples[0]!.length} timed runs per side after ${LOGIN_WARMUP} warm-up runs`);
  return samples;
}

/** STREAM_BYTES through exec stdout from each target in turn, STREAM_ROUNDS rounds; with the server's CPU seconds. */
async function interleavedStreams(targets: SshTarget[], cpu: (() => number)[]): Promise<StreamResult[][]> {
  const results = targets.map(() => [] as StreamResult[]);
  const deadline = performance.now() + STREAM_BUDGET_MS;
  for (let round = 0; round < STREAM_ROUNDS; round++) {
    if (round > 0 && performance.now() > deadline) {
      log(`stream: time budget of ${STREAM_BUDGET_MS / 1000} s used up after ${round} rounds`);
      break;
    }
    for (const [i, t] of targets.entries()) {
      const c0 = cpu[i]!();
      const r = await streamThroughput(t, STREAM_BYTES, STREAM_TIMEOUT_MS);
      // sshd's per-connection process is counted once the listener has reaped it.
      const c1 = await settledCpu(cpu[i]!);
      const serverCpuSeconds = c1 - c0;
      log(`stream: round ${round + 1} ${t.name}: ${r.mibPerSec.toFixed(1)} MiB/s (${r.seconds.toFixed(2)} s), server CPU ${serverCpuSeconds.toFixed(2)} s`);
      results[i]!.push({ ...r, serverCpuSeconds });
    }
  }
  return results;
}

function r2(x: number): number {
  return Math.round(x * 100) / 100;
}

function log(s: string): void {
  console.error(`[foundation] ${s}`);
}
