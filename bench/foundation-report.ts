// The foundation benchmark's results file and table: numbers per side, ratios
// hostward/sshd, targets with pass/miss, machine info.
import type { HostwardCommand } from "./hostward-build.ts";
import type { MachineInfo } from "./machine-info.ts";
import type { StreamResult } from "./ssh-client.ts";
import { median, summarize, type Summary } from "./stats.ts";
import { formatTable } from "./text-table.ts";

export interface Measurements {
  ciphers: { hostward: string; sshd: string; sshdSameCipher: string };
  login: { runs: number; warmup: number; hostward: number[]; sshd: number[] };
  stream: { bytes: number; hostward: StreamResult[]; sshd: StreamResult[]; sshdSameCipher: StreamResult[] };
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
  const login = { hostward: round(summarize(m.login.hostward)), sshd: round(summarize(m.login.sshd)) };
  const stream = { hostward: streamSide(m.stream.hostward), sshd: streamSide(m.stream.sshd), sshdSameCipher: streamSide(m.stream.sshdSameCipher) };
  const latencyRatio = ratio(login.hostward.p50, login.sshd.p50);
  const streamRatio = ratio(stream.hostward.mibPerSec, stream.sshd.mibPerSec);
  const targets: Target[] = [
    { name: "login latency p50", metric: "hostward/sshd", target: "<= 1.0", value: latencyRatio, pass: latencyRatio <= 1.0 },
    { name: "exec stdout throughput", metric: "hostward/sshd", target: ">= 0.9", value: streamRatio, pass: streamRatio >= 0.9 },
  ];
  return {
    benchmark: "foundation",
    date: machine.date,
    machine,
    hostward: { mode: hostward.mode, source: hostward.source, srcDirty: hostward.srcDirty, note: hostward.note },
    ciphers: { ...m.ciphers, note: "server->client cipher from `ssh -v`; hostward offers only AES-GCM, sshd-same-cipher is sshd with the client limited to hostward's cipher" },
    latency: {
      what: "wall time of `ssh -F <config> node true` from spawn to exit, ms; sides interleaved (order alternating per round), warm-up runs dropped; nearest-rank percentiles",
      runsPerSide: login.hostward.n,
      warmupPerSide: m.login.warmup,
      hostwardMs: login.hostward,
      sshdMs: login.sshd,
      ratioP50: latencyRatio,
      ratioP99: ratio(login.hostward.p99, login.sshd.p99),
      samplesMs: { hostward: m.login.hostward.map(r2), sshd: m.login.sshd.map(r2) },
    },
    throughput: {
      what: "`ssh node 'head -c 1073741824 /dev/zero'` into a dd+wc counter that checks the byte count; MiB/s from first byte to EOF; sides interleaved; the median run per side is reported",
      bytes: m.stream.bytes,
      pick: "median",
      ...stream,
      ratio: streamRatio,
      ratioSameCipher: ratio(stream.hostward.mibPerSec, stream.sshdSameCipher.mibPerSec),
    },
    targets,
    pass: targets.every((t) => t.pass),
  };
}

export function foundationTable(r: FoundationReport): string {
  const t = r.throughput;
  const l = r.latency;
  const [latTarget, streamTarget] = r.targets;
  const verdict = (x?: Target) => (x ? `${x.target} ${x.pass ? "pass" : "MISS"}` : "");
  const rows = [
    ["login p50 (ms)", f(l.hostwardMs.p50), f(l.sshdMs.p50), f(l.ratioP50, 2), verdict(latTarget)],
    ["login p99 (ms)", f(l.hostwardMs.p99), f(l.sshdMs.p99), f(l.ratioP99, 2), ""],
    [`exec stdout MiB/s (median of ${t.hostward.runsMiBPerSec.length})`, f(t.hostward.mibPerSec), f(t.sshd.mibPerSec), f(t.ratio, 2), verdict(streamTarget)],
    ["exec stdout MiB/s, sshd on hostward's cipher", f(t.hostward.mibPerSec), f(t.sshdSameCipher.mibPerSec), f(t.ratioSameCipher, 2), "(info)"],
  ];
  const head = `foundation: ${l.runsPerSide} logins per side, ${t.bytes} bytes per stream; hostward ${r.hostward.mode} from ${r.hostward.source} (${r.hostward.note})\n` +
    `ciphers: hostward ${r.ciphers.hostward}, sshd ${r.ciphers.sshd}, sshd-same-cipher ${r.ciphers.sshdSameCipher}\n` +
    `machine: ${r.machine.nproc} x ${r.machine.cpuModel}, bun ${r.machine.bunVersion}, ${r.machine.sshVersion}\n`;
  return head + "\n" + formatTable(["", "hostward", "sshd", "hostward/sshd", "target"], rows);
}

function streamSide(runs: StreamResult[]) {
  const rates = runs.map((r) => r.mibPerSec);
  return { mibPerSec: r2(median(rates)), bestMiBPerSec: r2(Math.max(...rates)), runsMiBPerSec: rates.map(r2) };
}

function ratio(a: number, b: number): number {
  return Math.round((a / b) * 1000) / 1000;
}

function round(s: Summary): Summary {
  return { n: s.n, p50: r2(s.p50), p99: r2(s.p99), mean: r2(s.mean), min: r2(s.min), max: r2(s.max) };
}

function r2(x: number): number {
  return Math.round(x * 100) / 100;
}

function f(x: number, digits = 1): string {
  return x.toFixed(digits);
}
