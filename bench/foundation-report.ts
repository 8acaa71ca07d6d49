// The foundation benchmark's results file and table: numbers per side, ratios
// hostward/sshd, targets with pass/miss, negotiated algorithms, machine info.
import type { HostwardCommand } from "./hostward-build.ts";
import type { MachineInfo } from "./machine-info.ts";
import type { Negotiated, StreamResult } from "./ssh-client.ts";
import { median, summarize, type Summary } from "./stats.ts";
import { formatTable } from "./text-table.ts";

export interface Measurements {
  algorithms: { hostward: Negotiated; sshd: Negotiated; sshdMatched: Negotiated };
  login: { warmup: number; hostward: number[]; sshd: number[]; sshdMatched: number[] };
  stream: { bytes: number; hostward: StreamResult[]; sshd: StreamResult[]; sshdMatched: StreamResult[] };
}

interface Target {
  name: string;
  metric: string;
  target: string;
  value: number;
  pass: boolean;
}

export type FoundationReport = ReturnType<typeof foundationReport>;

export function foundationReport(m: Measurements, machine: MachineInfo, hostward: HostwardCommand) {
  const login = { hostward: summary(m.login.hostward), sshd: summary(m.login.sshd), sshdMatched: summary(m.login.sshdMatched) };
  const stream = { hostward: streamSide(m.stream.hostward), sshd: streamSide(m.stream.sshd), sshdMatched: streamSide(m.stream.sshdMatched) };
  const latencyRatio = ratio(login.hostward.p50, login.sshd.p50);
  const streamRatio = ratio(stream.hostward.mibPerSec, stream.sshd.mibPerSec);
  const matchedRatio = ratio(stream.hostward.mibPerSec, stream.sshdMatched.mibPerSec);
  const targets: Target[] = [
    { name: "login latency p50", metric: "hostward/sshd", target: "<= 1.0", value: latencyRatio, pass: latencyRatio <= 1.0 },
    { name: "exec stdout throughput", metric: "hostward/sshd", target: ">= 1.0", value: streamRatio, pass: streamRatio >= 1.0 },
    { name: "exec stdout throughput, same algorithms", metric: "hostward/sshd-matched", target: ">= 0.9", value: matchedRatio, pass: matchedRatio >= 0.9 },
  ];
  return {
    benchmark: "foundation",
    date: machine.date,
    machine,
    hostward: { mode: hostward.mode, source: hostward.source, srcDirty: hostward.srcDirty, note: hostward.note },
    algorithms: {
      ...m.algorithms,
      note: "from `ssh -v` (kex: lines). sshd is OpenSSH's defaults; sshdMatched is the same sshd with the client limited to the kex, host key algorithm and cipher hostward negotiated (hostward offers only AES-GCM). Targets compare against sshd; sshdMatched is for information.",
    },
    latency: {
      what: "wall time of `ssh -F <config> node true`, spawn to exit, ms; sides interleaved with the order reversed every other round; warm-up rounds dropped; nearest-rank percentiles",
      runsPerSide: login.hostward.n,
      warmupPerSide: m.login.warmup,
      hostwardMs: login.hostward,
      sshdMs: login.sshd,
      sshdMatchedMs: login.sshdMatched,
      ratioP50: latencyRatio,
      ratioP99: ratio(login.hostward.p99, login.sshd.p99),
      ratioP50Matched: ratio(login.hostward.p50, login.sshdMatched.p50),
      samplesMs: { hostward: m.login.hostward.map(r2), sshd: m.login.sshd.map(r2), sshdMatched: m.login.sshdMatched.map(r2) },
    },
    throughput: {
      what: `\`ssh node 'head -c ${m.stream.bytes} /dev/zero'\` into a dd+wc counter that checks the byte count; MiB/s from the first byte to EOF; sides interleaved per round; the median run per side is reported (best kept too)`,
      bytes: m.stream.bytes,
      pick: "median",
      ...stream,
      ratio: streamRatio,
      ratioMatched: matchedRatio,
      serverCpu: "serverCpuSecondsPerGiB: CPU seconds of the server per GiB streamed (hostward: the dev process; sshd: its reaped per-connection processes), median over runs; less sensitive to other load on the machine than MiB/s",
    },
    targets,
    pass: targets.every((t) => t.pass),
  };
}

export function foundationTable(r: FoundationReport): string {
  const { latency: l, throughput: t, algorithms: a } = r;
  const verdict = (x?: Target) => (x ? `${x.target} ${x.pass ? "pass" : "MISS"}` : "(info)");
  const runs = t.hostward.runsMiBPerSec.length;
  const rows = [
    ["login p50, ms", f(l.hostwardMs.p50), f(l.sshdMs.p50), f(l.ratioP50, 2), verdict(r.targets[0])],
    ["login p99, ms", f(l.hostwardMs.p99), f(l.sshdMs.p99), f(l.ratioP99, 2), "(info)"],
    ["login p50, ms, vs sshd-matched", f(l.hostwardMs.p50), f(l.sshdMatchedMs.p50), f(l.ratioP50Matched, 2), "(info)"],
    [`exec stdout MiB/s, median of ${runs}`, f(t.hostward.mibPerSec), f(t.sshd.mibPerSec), f(t.ratio, 2), verdict(r.targets[1])],
    [`exec stdout MiB/s, median of ${runs}, vs sshd-matched`, f(t.hostward.mibPerSec), f(t.sshdMatched.mibPerSec), f(t.ratioMatched, 2), verdict(r.targets[2])],
    ["server CPU s per GiB streamed (median)", f(t.hostward.serverCpuSecondsPerGiB, 2), f(t.sshd.serverCpuSecondsPerGiB, 2), f(t.hostward.serverCpuSecondsPerGiB / t.sshd.serverCpuSecondsPerGiB, 2), "(info)"],
    ["same, vs sshd-matched", f(t.hostward.serverCpuSecondsPerGiB, 2), f(t.sshdMatched.serverCpuSecondsPerGiB, 2), f(t.hostward.serverCpuSecondsPerGiB / t.sshdMatched.serverCpuSecondsPerGiB, 2), "(info)"],
  ];
  const algo = (x: Negotiated) => `${x.kex} / ${x.cipher}`;
  const head = [
    `hostward: ${r.hostward.mode} from ${r.hostward.source} (${r.hostward.note})`,
    `kex / cipher: hostward ${algo(a.hostward)}; sshd ${algo(a.sshd)}; sshd-matched ${algo(a.sshdMatched)}`,
    `${l.runsPerSide} logins per side; ${t.bytes} bytes per stream, ${runs} per side`,
    `machine: ${r.machine.nproc} x ${r.machine.cpuModel}, bun ${r.machine.bunVersion}, ${r.machine.sshVersion}`,
  ].join("\n");
  return `${head}\n\n${formatTable(["", "hostward", "sshd", "hostward/sshd", "target"], rows)}\nresult: ${r.pass ? "all targets met" : "target missed"}`;
}

function streamSide(runs: StreamResult[]) {
  const rates = runs.map((r) => r.mibPerSec);
  const cpu = runs.filter((r) => r.serverCpuSeconds !== undefined).map((r) => r.serverCpuSeconds! / (r.bytes / 2 ** 30));
  return { mibPerSec: r2(median(rates)), bestMiBPerSec: r2(Math.max(...rates)), runsMiBPerSec: rates.map(r2), serverCpuSecondsPerGiB: r2(median(cpu)), runsServerCpuSecondsPerGiB: cpu.map(r2) };
}

function summary(samples: number[]): Summary {
  const s = summarize(samples);
  return { n: s.n, p50: r2(s.p50), p99: r2(s.p99), mean: r2(s.mean), min: r2(s.min), max: r2(s.max) };
}

function ratio(a: number, b: number): number {
  return Math.round((a / b) * 1000) / 1000;
}

function r2(x: number): number {
  return Math.round(x * 100) / 100;
}

function f(x: number, digits = 1): string {
  return x.toFixed(digits);
}
