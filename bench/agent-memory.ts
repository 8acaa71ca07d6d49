// Agent memory benchmark: an idle agent's RSS, then RSS and CPU as live interactive
// `ssh -tt` sessions (recorded, the default) are opened against it — at 200 and at
// 1,000 — and after they close. Auth service and agent are separate processes on
// loopback. Writes bench/results/agent-memory.json and prints a table.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { forEachBounded } from "./bounded-pool.ts";
import { hostwardCommand } from "./hostward-build.ts";
import { LiveSsh } from "./live-ssh.ts";
import { ensureTestAccount, TEST_LOGIN } from "../test/helpers/os-account.ts";
import { machineInfo } from "./machine-info.ts";
import { procUsage } from "./proc-usage.ts";
import { startSplitCluster, type SplitCluster } from "./split-cluster.ts";
import { median } from "./stats.ts";
import { formatTable } from "./text-table.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RESULTS = join(ROOT, "bench", "results", "agent-memory.json");
const STEPS = [200, Number(process.env.HOSTWARD_BENCH_SESSIONS ?? 1000)];
const OPEN_CONCURRENCY = 12;
const OPEN_TIMEOUT_MS = 60_000;
const OPEN_BUDGET_MS = 300_000;
const SETTLE_MS = 3_000;
const GOALS = { idleMiB: 45, perSessionMiB: 1 };
/** Open-and-close rounds after the big step: RSS after each shows whether closed sessions leave memory behind. */
const CYCLES = Number(process.env.HOSTWARD_BENCH_CYCLES ?? 6);
const CYCLE_SESSIONS = 200;

export interface Rss {
  rssMiB: number;
  anonMiB: number;
  fileMiB: number;
  /** Proportional set size: pages shared with another process (the auth service runs the same binary file) count by share. */
  pssMiB: number;
  /** Unique set size: pages no other process maps (Private_Clean + Private_Dirty). */
  ussMiB: number;
}

interface Step {
  sessions: number;
  rss: Rss;
  perSessionMiB: number;
  perSessionAnonMiB: number;
  agentCpuSecondsToOpen: number;
  openSeconds: number;
  agentThreads: number;
  failed: number;
}

export async function run(): Promise<object> {
  const dir = mkdtempSync(join(tmpdir(), "hostward-bench-mem-"));
  const source = process.env.HOSTWARD_BENCH_SOURCE === "head" ? "head" : "worktree";
  let cluster: SplitCluster | undefined;
  const live: LiveSsh[] = [];
  try {
    const machine = await machineInfo(ROOT);
    const hw = await hostwardCommand(ROOT, source, dir);
    log(`hostward: ${hw.mode} from ${source} (${hw.note})`);
    // A plain account (the tests' own): root's login profile on a shared machine runs
    // whatever its owner installed, and a login shell must answer promptly.
    await ensureTestAccount();
    cluster = await startSplitCluster(dir, hw, TEST_LOGIN, "bench", "");
    const agent = cluster.pids.agent;
    await Bun.sleep(SETTLE_MS);
    const idle = await settledRss(agent);
    log(`idle: RSS ${idle.rssMiB.toFixed(1)} MiB (anonymous ${idle.anonMiB.toFixed(1)}, file ${idle.fileMiB.toFixed(1)})`);
    const steps: Step[] = [];
    const argv = ["ssh", "-F", cluster.target.configFile, "-tt", "-o", "BatchMode=yes", "-o", "ControlMaster=no", "-o", "ControlPath=none", "node"];
    for (const target of STEPS) {
      const cpu0 = (await procUsage(agent)).cpuSeconds;
      const t0 = performance.now();
      const want = target - live.length;
      let failed = 0;
      await forEachBounded(Array.from({ length: want }), OPEN_CONCURRENCY, t0 + OPEN_BUDGET_MS, async () => {
        const s = new LiveSsh(argv);
        live.push(s);
        // One slow shell on a busy machine is counted, not fatal: the goal is no refusal.
        await s.ready(OPEN_TIMEOUT_MS).catch((e: Error) => {
          failed++;
          log(`session ${live.length}: ${e.message}`);
        });
      });
      const openSeconds = (performance.now() - t0) / 1000;
      const cpu = (await procUsage(agent)).cpuSeconds - cpu0;
      await Bun.sleep(SETTLE_MS);
      const rss = await settledRss(agent);
      const stillAlive = live.filter((s) => s.alive).length;
      if (stillAlive !== target) throw new Error(`${target} sessions opened but ${stillAlive} are alive`);
      steps.push({
        sessions: target, rss, failed, openSeconds, agentCpuSecondsToOpen: cpu, agentThreads: threads(agent),
        perSessionMiB: (rss.rssMiB - idle.rssMiB) / target, perSessionAnonMiB: (rss.anonMiB - idle.anonMiB) / target,
      });
      log(`${target} sessions: RSS ${rss.rssMiB.toFixed(1)} MiB (${((rss.rssMiB - idle.rssMiB) / target * 1024).toFixed(0)} KiB per session), opened in ${openSeconds.toFixed(1)} s, agent CPU ${cpu.toFixed(1)} s`);
    }
    for (const s of live) s.proc.stdin.end();
    for (const s of live) s.kill();
    await Promise.all(live.map((s) => s.exited));
    await Bun.sleep(SETTLE_MS * 2);
    const after = await settledRss(agent);
    const cycles: number[] = [];
    for (let i = 0; i < CYCLES; i++) {
      const round: LiveSsh[] = [];
      await forEachBounded(Array.from({ length: CYCLE_SESSIONS }), OPEN_CONCURRENCY, performance.now() + OPEN_BUDGET_MS, async () => {
        const s = new LiveSsh(argv);
        round.push(s);
        await s.ready(OPEN_TIMEOUT_MS);
      });
      for (const s of round) s.proc.stdin.end();
      for (const s of round) s.kill();
      await Promise.all(round.map((s) => s.exited));
      await Bun.sleep(SETTLE_MS);
      cycles.push((await settledRss(agent)).rssMiB);
      log(`cycle ${i + 1}: ${CYCLE_SESSIONS} sessions opened and closed, RSS ${cycles.at(-1)!.toFixed(1)} MiB`);
    }
    const report = {
      benchmark: "agent-memory",
      date: machine.date,
      machine,
      hostward: { mode: hw.mode, source: hw.source, srcDirty: hw.srcDirty, note: hw.note },
      setup: "auth service and one agent as separate processes on loopback; sessions are `ssh -tt node` login shells (bash -l of a plain account) (recorded: session_recording = node, the default), opened 12 at a time, each proven live by a shell round trip; RSS from /proc/<agent>/status, PSS and USS (Private_Clean + Private_Dirty) from /proc/<agent>/smaps_rollup (median of 5 readings 200 ms apart)",
      loadAverage1m: loadavg()[0],
      goals: { idleRssMiB: GOALS.idleMiB, perSessionMiBAt200: GOALS.perSessionMiB, sessions: STEPS[1] },
      idle,
      steps,
      afterClose: after,
      // A leak grows with every round; a heap that keeps its pages for reuse levels off.
      cycles: { sessionsPerCycle: CYCLE_SESSIONS, rssMiBAfterEach: cycles, growthOverLastHalfMiB: cycles.length > 1 ? cycles.at(-1)! - cycles[Math.floor(cycles.length / 2)]! : 0 },
      note: "fileMiB is pages of the hostward executable (Bun's machine code and the embedded bundle): clean once the file is written back, shared by every hostward process on the host running the same file (PSS counts them by share; the auth service here runs the same file), and dropped first under memory pressure; anonMiB is the agent's own heap",
      pass: {
        idle: idle.rssMiB <= GOALS.idleMiB,
        perSession: steps[0]!.perSessionMiB <= GOALS.perSessionMiB,
        sessions: steps[1]!.failed === 0,
      },
    };
    mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
    writeFileSync(RESULTS, JSON.stringify(report, null, 2) + "\n");
    console.log(table(report));
    console.log(`\nwrote ${relative(process.cwd(), RESULTS) || RESULTS}`);
    return report;
  } finally {
    for (const s of live) s.kill();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function settledRss(pid: number): Promise<Rss> {
  const samples: Rss[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(rssOf(pid));
    await Bun.sleep(200);
  }
  const m = (k: keyof Rss) => median(samples.map((s) => s[k]));
  return { rssMiB: m("rssMiB"), anonMiB: m("anonMiB"), fileMiB: m("fileMiB"), pssMiB: m("pssMiB"), ussMiB: m("ussMiB") };
}

export function rssOf(pid: number): Rss {
  const st = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (k: string) => Number(st.match(new RegExp(`^${k}:\\s+(\\d+) kB`, "m"))?.[1] ?? NaN);
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const rolled = (k: string) => Number(rollup.match(new RegExp(`^${k}:\\s+(\\d+) kB`, "m"))?.[1] ?? NaN);
  return {
    rssMiB: kib("VmRSS") / 1024, anonMiB: kib("RssAnon") / 1024, fileMiB: kib("RssFile") / 1024,
    pssMiB: rolled("Pss") / 1024, ussMiB: (rolled("Private_Clean") + rolled("Private_Dirty")) / 1024,
  };
}

function threads(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/^Threads:\s+(\d+)/m)?.[1] ?? NaN);
}

function table(r: { idle: Rss; steps: Step[]; afterClose: Rss; cycles: { sessionsPerCycle: number; rssMiBAfterEach: number[] }; pass: { idle: boolean; perSession: boolean; sessions: boolean } }): string {
  const f = (n: number, d = 1) => n.toFixed(d);
  const rows = [
    ["idle agent RSS, MiB (anonymous / executable pages)", `${f(r.idle.rssMiB)} (${f(r.idle.anonMiB)} / ${f(r.idle.fileMiB)})`, `<= ${GOALS.idleMiB}`, r.pass.idle ? "pass" : "MISS"],
    ["idle agent PSS / USS, MiB (auth service runs the same binary)", `${f(r.idle.pssMiB)} / ${f(r.idle.ussMiB)}`, "", "(info)"],
    ...r.steps.map((s, i) => [
      `${s.sessions} live ssh -tt sessions: RSS MiB, KiB per session (anon)`,
      `${f(s.rss.rssMiB)}, ${f(s.perSessionMiB * 1024, 0)} (${f(s.perSessionAnonMiB * 1024, 0)})`,
      i === 0 ? `<= ${GOALS.perSessionMiB * 1024} KiB/session` : "all open",
      i === 0 ? (r.pass.perSession ? "pass" : "MISS") : s.failed === 0 ? "pass" : "MISS",
    ]),
    ...r.steps.map((s) => [`agent CPU to open ${s.sessions} (total), s; wall s`, `${f(s.agentCpuSecondsToOpen)}; ${f(s.openSeconds)}`, "", "(info)"]),
    ["after all closed: RSS MiB (anonymous)", `${f(r.afterClose.rssMiB)} (${f(r.afterClose.anonMiB)})`, "", "(info)"],
    [`then ${r.cycles.rssMiBAfterEach.length} rounds of ${r.cycles.sessionsPerCycle} opened and closed: RSS MiB after each`, r.cycles.rssMiBAfterEach.map((v) => f(v, 0)).join(", "), "", "(info)"],
  ];
  return formatTable(["agent memory", "hostward", "goal", "result"], rows);
}

function log(s: string): void {
  console.error(`[agent-memory] ${s}`);
}
