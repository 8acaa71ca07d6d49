// CLI start benchmark: `hostward version` and `hostward ctl get locks` (against a loopback
// auth service) beside a compiled one-line Bun program, interleaved, wall time + CPU + max RSS.
// Writes bench/results/cli.json and prints a table.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./free-port.ts";
import { hostwardCommand, type HostwardCommand } from "./hostward-build.ts";
import { machineInfo } from "./machine-info.ts";
import { runCaptured, tail } from "./run-captured.ts";
import { startService, type Service } from "./service-process.ts";
import { summarize, type Summary } from "./stats.ts";
import { formatTable } from "./text-table.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RESULTS = join(ROOT, "bench", "results", "cli.json");
const RUNS = 40;
const WARMUP = 3;
const RUN_TIMEOUT_MS = 10_000;
const BUDGET_MS = 90_000;

interface Sample {
  ms: number;
  cpuMs: number;
}

interface Case {
  name: string;
  cmd: string[];
  goalP50Ms?: number;
}

export async function run(): Promise<object> {
  const source = process.env.HOSTWARD_BENCH_SOURCE === "head" ? "head" : "worktree";
  const dir = mkdtempSync(join(tmpdir(), "hostward-bench-cli-"));
  let auth: Service | undefined;
  try {
    const machine = await machineInfo(ROOT);
    const hw = await hostwardCommand(ROOT, source, dir);
    log(`hostward: ${hw.mode} from ${source} (${hw.note})`);
    const hello = await compileHello(dir);
    auth = await startAuth(dir, hw);
    const authAddr = auth.ready[1]!;
    const identity = join(dir, "auth", "admin.identity");
    const cases: Case[] = [
      { name: "hostward version", cmd: [...hw.cmd, "version"], goalP50Ms: 30 },
      { name: "hostward ctl get locks", cmd: [...hw.cmd, "ctl", "--identity", identity, "get", "locks"], goalP50Ms: 80 },
      { name: "compiled Bun hello (reference)", cmd: [hello] },
      { name: "curl -k GET /v1/ca, same auth (reference)", cmd: ["curl", "-sfk", "-o", "/dev/null", `https://${authAddr}/v1/ca`] },
    ];
    const load = { before: loadAvg() };
    const samples = await interleaved(cases);
    const rss: number[][] = [];
    for (const c of cases) rss.push(await maxRssMiB(c.cmd, dir));
    const report = {
      benchmark: "cli",
      date: machine.date,
      machine,
      hostward: { mode: hw.mode, source: hw.source, srcDirty: hw.srcDirty, note: hw.note },
      what: "each command spawned to exit in turn (order reversed every other round), warm-up rounds dropped; ms = wall time, cpuMs = user+system CPU of the process (less sensitive to other load on the machine than wall time), maxRssMiB from GNU time's %M in 5 separate runs; nearest-rank percentiles",
      loadAverage1m: { ...load, after: loadAvg() },
      cases: cases.map((c, i) => ({
        name: c.name,
        goalP50Ms: c.goalP50Ms ?? null,
        ms: summarize(samples[i]!.map((s) => s.ms)),
        cpuMs: summarize(samples[i]!.map((s) => s.cpuMs)),
        maxRssMiB: summarize(rss[i]!),
        pass: c.goalP50Ms === undefined ? null : summarize(samples[i]!.map((s) => s.ms)).p50 <= c.goalP50Ms,
        samplesMs: samples[i]!.map((s) => Math.round(s.ms * 100) / 100),
      })),
    };
    mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
    writeFileSync(RESULTS, JSON.stringify(report, null, 2) + "\n");
    console.log(table(report.cases));
    console.log(`\nwrote ${relative(process.cwd(), RESULTS) || RESULTS}`);
    return report;
  } finally {
    await auth?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function interleaved(cases: Case[]): Promise<Sample[][]> {
  const samples = cases.map(() => [] as Sample[]);
  const deadline = performance.now() + BUDGET_MS;
  for (let round = 0; round < WARMUP + RUNS && performance.now() < deadline; round++) {
    const order = round % 2 === 0 ? [...cases.keys()] : [...cases.keys()].reverse();
    for (const i of order) {
      const s = await timed(cases[i]!.cmd);
      if (round >= WARMUP) samples[i]!.push(s);
    }
  }
  log(`${samples[0]!.length} timed runs per command after ${WARMUP} warm-up rounds`);
  return samples;
}

async function timed(cmd: string[]): Promise<Sample> {
  const start = performance.now();
  const proc = Bun.spawn({ cmd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), RUN_TIMEOUT_MS);
  const [, stderr, code] = await Promise.all([new Response(proc.stdout).arrayBuffer(), new Response(proc.stderr).text(), proc.exited]);
  const ms = performance.now() - start;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${cmd.slice(-3).join(" ")} exited ${code}: ${tail(stderr)}`);
  const ru = proc.resourceUsage()!;
  return { ms, cpuMs: Number(ru.cpuTime.user + ru.cpuTime.system) / 1000 };
}

/** Peak RSS of 5 runs of cmd, MiB, from GNU time (Bun's resourceUsage().maxRSS is not per child). */
async function maxRssMiB(cmd: string[], dir: string): Promise<number[]> {
  const out: number[] = [];
  const file = join(dir, "time.out");
  for (let i = 0; i < 5; i++) {
    const r = await runCaptured(["/usr/bin/time", "-f", "%M", "-o", file, ...cmd], RUN_TIMEOUT_MS);
    if (r.code !== 0) throw new Error(`${cmd.slice(-3).join(" ")} exited ${r.code}: ${tail(r.stderr)}`);
    out.push(Number(readFileSync(file, "utf8").trim().split("\n").pop()) / 1024);
  }
  return out;
}

/** A compiled Bun program that prints one line: the floor any compiled Bun CLI starts from. */
async function compileHello(dir: string): Promise<string> {
  writeFileSync(join(dir, "hello.ts"), `console.log("hello");\n`);
  const out = join(dir, "hello");
  const r = await runCaptured([join(ROOT, "node_modules", ".bin", "bun"), "build", "--compile", join(dir, "hello.ts"), "--outfile", out], 120_000, dir);
  if (r.code !== 0) throw new Error(`bun build hello: ${tail(r.stderr)}`);
  return out;
}

async function startAuth(dir: string, hw: HostwardCommand): Promise<Service> {
  const listen = `127.0.0.1:${await freePort()}`;
  writeFileSync(join(dir, "auth.toml"), `data_dir = "${dir}/auth"\nlisten = "${listen}"\nlog_level = "info"\n`);
  return startService("hostward auth", [...hw.cmd, "auth", "start", "--config", join(dir, "auth.toml")], /"auth service started".*?"listen":"([^"]+)"/, 30_000);
}

function table(cases: { name: string; goalP50Ms: number | null; ms: Summary; cpuMs: Summary; maxRssMiB: Summary; pass: boolean | null }[]): string {
  const f = (n: number) => n.toFixed(1);
  return formatTable(
    ["command", "p50 ms", "p99 ms", "CPU p50 ms", "max RSS MiB", "goal p50", "result"],
    cases.map((c) => [c.name, f(c.ms.p50), f(c.ms.p99), f(c.cpuMs.p50), f(c.maxRssMiB.p50), c.goalP50Ms === null ? "" : `<= ${c.goalP50Ms} ms`, c.pass === null ? "(ref)" : c.pass ? "pass" : "MISS"]),
  );
}

function loadAvg(): number {
  return Number(loadavg()[0]!.toFixed(2));
}

function log(s: string): void {
  console.error(`[cli] ${s}`);
}
