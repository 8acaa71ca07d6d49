// Recording benchmark: 1 GiB through exec stdout with recording off, node and node-sync,
// of zeros (compressible) and of random bytes (incompressible): throughput as ratios to
// off, CPU per GiB of the agent and of the auth service separately (CPU moves less with
// the machine's load than MiB/s does), stored bytes per output byte; compressed bytes per
// recorded byte for a typical interactive shell session, and the time to seek to the
// middle of a one-hour recording. Writes bench/results/recording.json and prints a table.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipPart } from "../src/recording/format/part-codec.ts";
import { readRecording } from "../src/recording/format/recording-reader.ts";
import { eventBytes } from "../src/recording/format/recording-event.ts";
import { ScreenIndex } from "../src/play/screen-index.ts";
import { hostwardCommand } from "./hostward-build.ts";
import { loginName } from "./login-name.ts";
import { startSplitCluster, type SplitCluster } from "./split-cluster.ts";
import { machineInfo } from "./machine-info.ts";
import { typeShellSession, syntheticHour } from "./recording-workloads.ts";
import { runCaptured, tail } from "./run-captured.ts";
import { streamThroughput, type SshTarget } from "./ssh-client.ts";
import { median } from "./stats.ts";
import { formatTable } from "./text-table.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RESULTS = join(ROOT, "bench", "results", "recording.json");
const BYTES = 1024 * 1024 * 1024;
const ROUNDS = Number(process.env.HOSTWARD_BENCH_ROUNDS ?? 3);
const MODES = ["off", "node", "node-sync"] as const;
type Mode = (typeof MODES)[number];
const ALL_WORKLOADS = ["zeros", "random"] as const;
type Workload = (typeof ALL_WORKLOADS)[number];
/** HOSTWARD_BENCH_WORKLOADS=random (comma-separated) runs only those workloads, for a quicker look at one. */
const WORKLOADS: readonly Workload[] = process.env.HOSTWARD_BENCH_WORKLOADS
  ? ALL_WORKLOADS.filter((w) => process.env.HOSTWARD_BENCH_WORKLOADS!.split(",").includes(w))
  : ALL_WORKLOADS;
/** The random workload cats a file of this many random bytes 1 GiB / RANDOM_FILE times (page cache, so the producer costs little). */
const RANDOM_FILE = 256 * 1024 * 1024;

export async function run(): Promise<object> {
  const machine = await machineInfo(ROOT);
  const dir = mkdtempSync(join(tmpdir(), "hostward-bench-rec-"));
  let hw: SplitCluster | undefined;
  try {
    const hostward = await hostwardCommand(ROOT, process.env.HOSTWARD_BENCH_SOURCE === "head" ? "head" : "worktree", dir);
    log(`hostward: ${hostward.mode} (${hostward.note})`);
    // Auth service and agent as separate processes, as in production: the agent's CPU
    // is what recording costs a node; the auth service's is reported beside it.
    mkdirSync(join(dir, "cluster"));
    hw = await startSplitCluster(join(dir, "cluster"), hostward, await loginName(), "bencher", "");
    const ctl = (...a: string[]) => runCaptured([...hostward.cmd, "ctl", "--identity", join(dir, "cluster", "auth", "admin.identity"), ...a], 30_000);
    const randomFile = join(dir, "random.bin");
    writeRandomFile(randomFile);
    const load = { before: loadavg().map((l) => round(l, 2)) };
    const streams = await measureStreams(hw, ctl, dir, randomFile);
    Object.assign(load, { after: loadavg().map((l) => round(l, 2)) });
    await setMode(ctl, dir, "node", hw.target);
    const partial = WORKLOADS.length < ALL_WORKLOADS.length;
    // A partial run (HOSTWARD_BENCH_WORKLOADS) skips the shell and seek parts and leaves the results file alone.
    const shell = partial ? undefined : await measureShell(hw.target, ctl);
    const seek = partial ? undefined : await measureSeek();
    const report = { benchmark: "recording", date: machine.date, machine, loadAverage: { ...load, note: "1, 5 and 15 minute load averages (os.loadavg, as uptime prints them) before and after the streams; 2 cores shared with other engineers' builds and tests" }, hostward: { mode: hostward.mode, note: hostward.note }, ...summarize(streams), shell, seek };
    const out = partial ? join(tmpdir(), `hostward-bench-recording-${WORKLOADS.join("-")}.json`) : RESULTS;
    mkdirSync(join(out, ".."), { recursive: true });
    writeFileSync(out, JSON.stringify(report, null, 2) + "\n");
    console.log(table(report));
    console.log(`\nwrote ${relative(process.cwd(), out) || out}`);
    return report;
  } finally {
    await hw?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

type Ctl = (...a: string[]) => ReturnType<typeof runCaptured>;
interface StreamSample {
  workload: Workload; mode: Mode; mibPerSec: number; cpuSeconds: number; agentCpuSeconds: number; authCpuSeconds: number;
  /** CPU of the agent's recording encoder worker thread and of the auth service's part-check worker thread. */
  encoderCpuSeconds: number; checkerCpuSeconds: number; storedBytes?: number; error?: string;
  /** The agent's CPU by thread name (main thread "hostward", encoder "Worker", allocator "mi-scavenger", uploads "HTTP Client"…). */
  agentThreads?: Record<string, number>;
}

function writeRandomFile(file: string): void {
  const chunk = new Uint8Array(1024 * 1024);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < RANDOM_FILE / chunk.length; i++) {
    for (let o = 0; o < chunk.length; o += 65536) crypto.getRandomValues(chunk.subarray(o, o + 65536));
    parts.push(chunk.slice());
  }
  writeFileSync(file, Buffer.concat(parts));
  chmodSync(file, 0o644);
}

async function measureStreams(hw: SplitCluster, ctl: Ctl, dir: string, randomFile: string): Promise<StreamSample[]> {
  const samples: StreamSample[] = [];
  const remote: Record<Workload, string> = {
    zeros: `head -c ${BYTES} /dev/zero`,
    random: `for i in $(seq ${BYTES / RANDOM_FILE}); do cat ${randomFile}; done`,
  };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [...MODES] : [...MODES].reverse();
    for (const workload of WORKLOADS) {
      for (const mode of order) {
        await setMode(ctl, dir, mode, hw.target);
        const agent0 = cpuSeconds(hw.pids.agent);
        const auth0 = cpuSeconds(hw.pids.auth);
        const enc0 = workerCpuSeconds(hw.pids.agent);
        const threads0 = threadCpuSeconds(hw.pids.agent);
        const chk0 = workerCpuSeconds(hw.pids.auth);
        let r: { mibPerSec: number };
        try {
          r = await streamThroughput(hw.target, BYTES, 180_000, remote[workload]);
        } catch (e) {
          // Kept as a failed sample (with its reason) rather than losing the whole run.
          log(`round ${round + 1} ${workload} ${mode}: FAILED ${(e as Error).message}`);
          samples.push({ workload, mode, mibPerSec: NaN, cpuSeconds: NaN, agentCpuSeconds: NaN, authCpuSeconds: NaN, encoderCpuSeconds: NaN, checkerCpuSeconds: NaN, error: (e as Error).message });
          if (mode !== "off") await waitUploaded(ctl).catch(() => {});
          continue;
        }
        let storedBytes: number | undefined;
        if (mode !== "off") {
          await waitUploaded(ctl);
          // The stream's recording is the largest of the newest few (the mode probe's is beside it).
          const rows = await ctlJson<{ bytes: number }[]>(ctl, "recordings", "ls", "--limit", "3", "--format", "json");
          storedBytes = Math.max(0, ...rows.map((x) => x.bytes));
        }
        const agentCpu = cpuSeconds(hw.pids.agent) - agent0;
        const authCpu = cpuSeconds(hw.pids.auth) - auth0;
        const encCpu = workerCpuSeconds(hw.pids.agent) - enc0;
        const chkCpu = workerCpuSeconds(hw.pids.auth) - chk0;
        const threads1 = threadCpuSeconds(hw.pids.agent);
        const agentThreads = Object.fromEntries(Object.entries(threads1).map(([k, v]) => [k, Number((v - (threads0[k] ?? 0)).toFixed(2))]).filter(([, v]) => (v as number) > 0));
        log(`round ${round + 1} ${workload} ${mode}: ${r.mibPerSec.toFixed(1)} MiB/s, CPU ${agentCpu.toFixed(2)} s agent (encoder ${encCpu.toFixed(2)}), ${authCpu.toFixed(2)} s auth (checker ${chkCpu.toFixed(2)}) until the recording was durable${storedBytes ? `, stored ${storedBytes} bytes` : ""}; load ${loadavg()[0]!.toFixed(1)}; agent threads ${JSON.stringify(agentThreads)}`);
        samples.push({ workload, mode, mibPerSec: r.mibPerSec, cpuSeconds: agentCpu + authCpu, agentCpuSeconds: agentCpu, authCpuSeconds: authCpu, encoderCpuSeconds: encCpu, checkerCpuSeconds: chkCpu, storedBytes, agentThreads });
      }
    }
  }
  return samples;
}

/** Sets cluster_config.session_recording and waits until the agent applies it (a probe session shows it). */
async function setMode(ctl: Ctl, dir: string, mode: Mode, t: SshTarget): Promise<void> {
  const f = join(dir, "cluster.toml");
  writeFileSync(f, `kind = "cluster_config"\nsession_recording = "${mode}"\n`);
  const r = await ctl("create", "-f", f);
  if (r.code !== 0) throw new Error(`ctl create cluster_config: ${tail(r.stderr)}`);
  for (let i = 0; i < 50; i++) {
    // A PTY session: the agent's default notice ("interactive") tells only those.
    const probe = await runCaptured(["ssh", "-tt", "-F", t.configFile, "-o", "BatchMode=yes", "node", "true"], 10_000);
    const recorded = /this session is being recorded/.test(probe.stdout + probe.stderr);
    if (recorded === (mode !== "off")) {
      if (mode === "off") return;
      await waitUploaded(ctl);
      const rows = await ctlJson<{ mode: string }[]>(ctl, "recordings", "ls", "--limit", "1", "--format", "json");
      if (rows[0]?.mode === mode) return;
    }
    await Bun.sleep(100);
  }
  throw new Error(`the agent did not switch to recording mode ${mode}`);
}

/** A ctl command's JSON answer, tried again when ctl fails or times out (the machine may be at load 30). */
async function ctlJson<T>(ctl: Ctl, ...args: string[]): Promise<T> {
  let last = "";
  for (let i = 0; i < 5; i++) {
    const r = await ctl(...args);
    if (r.code === 0 && r.stdout.trim()) return JSON.parse(r.stdout) as T;
    last = `exit ${r.code}: ${tail(r.stderr)}`;
    await Bun.sleep(500);
  }
  throw new Error(`ctl ${args.join(" ")}: ${last}`);
}

async function waitUploaded(ctl: Ctl): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const rows = await ctlJson<{ state: string }[]>(ctl, "recordings", "ls", "--limit", "5", "--format", "json");
    const sessions = await ctlJson<{ recorded: boolean; recording: string; state: string }[]>(ctl, "sessions", "ls", "--limit", "5", "--format", "json");
    if (rows.every((r) => r.state !== "uploading") && sessions.every((s) => !s.recorded || s.state === "active" || (s.recording !== "pending" && s.recording !== "uploading"))) return;
    await Bun.sleep(100);
  }
  throw new Error("recordings were not uploaded within a minute");
}

async function measureShell(t: SshTarget, ctl: Ctl) {
  await typeShellSession(t, 60_000);
  await waitUploaded(ctl);
  const rows = await ctlJson<{ session_id: string; bytes: number; kind: string }[]>(ctl, "recordings", "ls", "--limit", "5", "--format", "json");
  // The typed session is the newest login shell (the mode probes are exec sessions).
  const rec = rows.find((r) => r.kind === "shell") ?? rows[0]!;
  const file = join(tmpdir(), `hostward-bench-${rec.session_id}.gz`);
  const dl = await ctl("recordings", "download", rec.session_id, "--out", file);
  if (dl.code !== 0) throw new Error(`download: ${tail(dl.stderr)}`);
  const bytes = readFileSync(file);
  rmSync(file);
  const loaded = readRecording(bytes);
  const output = loaded.events.filter((e) => e.event === "print").reduce((n, e) => n + eventBytes(e as { data?: string }).length, 0);
  const ndjson = gunzipPart(bytes).length;
  return {
    what: "a typical interactive shell session typed through ssh -tt a key at a time (listings, ps, df, a loop); node mode",
    events: loaded.events.length, outputBytes: output, ndjsonBytes: ndjson, storedBytes: bytes.length,
    compressedPerRecordedByte: round(bytes.length / output, 3),
  };
}

async function measureSeek() {
  const hour = syntheticHour();
  const t0 = performance.now();
  const rec = readRecording(hour.bytes);
  const loadMs = performance.now() - t0;
  const seekCold: number[] = [];
  const seekWarm: number[] = [];
  for (let i = 0; i < 5; i++) {
    const index = new ScreenIndex(rec);
    let t = performance.now();
    await index.frameAt(rec.durationMs / 2);
    seekCold.push(performance.now() - t);
    await index.frameAt(rec.durationMs * 0.9);
    t = performance.now();
    await index.frameAt(rec.durationMs / 2);
    seekWarm.push(performance.now() - t);
  }
  return {
    what: "a synthetic one-hour shell recording (typing, listings, clears, a full-screen editor); seek = bytes that redraw the screen at 30:00",
    durationMs: rec.durationMs, events: hour.events, outputBytes: hour.outputBytes, fileBytes: hour.bytes.length,
    loadMs: round(loadMs, 1),
    seekToMiddleColdMs: round(median(seekCold), 1),
    seekToMiddleWarmMs: round(median(seekWarm), 2),
    note: "cold: a freshly loaded recording, the index built up to the middle on the way; warm: the index already built (e.g. after playing past it)",
  };
}

function summarize(samples: StreamSample[]) {
  const per = (w: Workload) => {
    const by = (m: Mode) => samples.filter((s) => s.workload === w && s.mode === m && !s.error);
    const med = (m: Mode, f: (s: StreamSample) => number) => median(by(m).map(f));
    const off = med("off", (s) => s.mibPerSec);
    const recorded = ["node", "node-sync"] as const;
    return {
      mibPerSec: Object.fromEntries(MODES.map((m) => [m, round(med(m, (s) => s.mibPerSec), 1)])),
      ratioToOff: Object.fromEntries(MODES.map((m) => [m, round(med(m, (s) => s.mibPerSec) / off, 3)])),
      agentSecondsPerGiB: Object.fromEntries(MODES.map((m) => [m, round(med(m, (s) => s.agentCpuSeconds), 2)])),
      authSecondsPerGiB: Object.fromEntries(MODES.map((m) => [m, round(med(m, (s) => s.authCpuSeconds), 2)])),
      agentRecordingSecondsPerGiB: Object.fromEntries(recorded.map((m) => [m, round(med(m, (s) => s.agentCpuSeconds) - med("off", (s) => s.agentCpuSeconds), 2)])),
      authRecordingSecondsPerGiB: Object.fromEntries(recorded.map((m) => [m, round(med(m, (s) => s.authCpuSeconds) - med("off", (s) => s.authCpuSeconds), 2)])),
      storedPerOutputByte: Object.fromEntries(recorded.map((m) => [m, round(med(m, (s) => s.storedBytes ?? 0) / BYTES, 4)])),
      encoderWorkerSecondsPerGiB: Object.fromEntries(recorded.map((m) => [m, round(med(m, (s) => s.encoderCpuSeconds), 2)])),
      checkWorkerSecondsPerGiB: Object.fromEntries(recorded.map((m) => [m, round(med(m, (s) => s.checkerCpuSeconds), 2)])),
      failed: samples.filter((s) => s.workload === w && s.error).map((s) => `${s.mode}: ${s.error}`),
    };
  };
  return {
    stream: {
      what: "1 GiB through exec stdout (`head -c 1GiB /dev/zero`, and a 256 MiB file of random bytes cat 4 times), counted by dd+wc; median of rounds, modes interleaved",
      bytes: BYTES, rounds: ROUNDS, target: "node >= 0.9 of off, node-sync >= 0.85",
      workloads: Object.fromEntries(WORKLOADS.map((w) => [w, per(w)])) as Record<Workload, ReturnType<typeof per>>,
      samples,
    },
    cpu: {
      what: "CPU seconds per GiB streamed, until the recording was durable, of the agent process and of the auth service process (separate processes, all threads); *RecordingSecondsPerGiB is the difference to recording off",
      baseline: { date: "2026-11-21", note: "format version 1 (base64 in JSON), part checks on the auth event loop, zeros only", agentRecordingSecondsPerGiB: { node: 2.3, "node-sync": 3.1 }, authRecordingSecondsPerGiB: { node: 2.4 } },
    },
  };
}

function table(r: ReturnType<typeof summarize> & { shell?: Awaited<ReturnType<typeof measureShell>>; seek?: Awaited<ReturnType<typeof measureSeek>> }): string {
  const rows = WORKLOADS.flatMap((w) => MODES.map((m) => {
    const x = r.stream.workloads[w];
    const rec = m === "off" ? undefined : m;
    return [`${w} ${m}`, x.mibPerSec[m]!.toFixed(1), x.ratioToOff[m]!.toFixed(3), x.agentSecondsPerGiB[m]!.toFixed(2), rec ? x.agentRecordingSecondsPerGiB[rec]!.toFixed(2) : "", x.authSecondsPerGiB[m]!.toFixed(2), rec ? x.storedPerOutputByte[rec]!.toFixed(4) : ""];
  }));
  return [
    formatTable(["1 GiB exec stdout", "MiB/s", "ratio to off", "agent CPU s/GiB", "agent over off", "auth CPU s/GiB", "stored/output"], rows),
    ...(r.shell && r.seek ? ["",
    `typical shell session: ${r.shell.storedBytes} bytes stored for ${r.shell.outputBytes} bytes of output = ${r.shell.compressedPerRecordedByte} per recorded byte`,
    `one-hour recording: load ${r.seek.loadMs} ms; seek to the middle ${r.seek.seekToMiddleColdMs} ms cold, ${r.seek.seekToMiddleWarmMs} ms warm (target <= 200 ms)`] : []),
  ].join("\n");
}

/** CPU seconds of a process's threads, summed by thread name. */
function threadCpuSeconds(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out[name] = (out[name] ?? 0) + (Number(f[11]) + Number(f[12])) / 100;
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** CPU seconds of a process's Worker threads (Bun names them "Worker"): the agent's encoder, the auth service's part checker. */
function workerCpuSeconds(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      if (readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim() !== "Worker") continue;
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      total += (Number(f[11]) + Number(f[12])) / 100;
    } catch {
      // the thread ended
    }
  }
  return total;
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

function round(n: number, d: number): number {
  return Number(n.toFixed(d));
}

function log(s: string): void {
  console.error(`[recording] ${s}`);
}
