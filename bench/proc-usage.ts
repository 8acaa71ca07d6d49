// A process's resident memory and CPU time so far, from /proc/<pid>/status and /stat.
import { readFileSync } from "node:fs";
import { runCaptured } from "./run-captured.ts";

export interface ProcUsage {
  rssMiB: number;
  cpuSeconds: number;
}

let _clockTicks: number | undefined;

/** Clock ticks per second for /proc/<pid>/stat times (getconf CLK_TCK, 100 on Linux). */
export async function clockTicks(): Promise<number> {
  if (_clockTicks === undefined) {
    const r = await runCaptured(["getconf", "CLK_TCK"], 5_000).catch(() => undefined);
    _clockTicks = Number(r?.stdout.trim()) || 100;
  }
  return _clockTicks;
}

export async function procUsage(pid: number): Promise<ProcUsage> {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKiB = Number(status.match(/^VmRSS:\s+(\d+) kB/m)?.[1] ?? NaN);
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssMiB: rssKiB / 1024, cpuSeconds: ticks / (await clockTicks()) };
}

/** Busy and total CPU time of the whole machine so far (all CPUs, clock ticks), from /proc/stat. */
export function machineCpuTicks(): { busy: number; total: number } {
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/** The machine's CPU busy share (0..1) between two machineCpuTicks() readings. */
export function busyShare(from: { busy: number; total: number }, to: { busy: number; total: number }): number {
  const total = to.total - from.total;
  return total > 0 ? (to.busy - from.busy) / total : NaN;
}

/**
 * CPU seconds of `pid` so far (utime + stime, fields 14 and 15 of /proc/<pid>/stat), with
 * its reaped children's (cutime + cstime) when `children`: sshd serves each connection in
 * a child it reaps. Clock ticks taken as 100 per second (Linux's USER_HZ).
 */
export function cpuSeconds(pid: number, children: boolean): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
  return (f[11]! + f[12]! + (children ? f[13]! + f[14]! : 0)) / 100;
}

/** Reads cpu() until two readings 200 ms apart agree (at most 2 s): a process that just finished a transfer may still be accounting it. */
export async function settledCpu(cpu: () => number): Promise<number> {
  let last = cpu();
  for (let i = 0; i < 10; i++) {
    await Bun.sleep(200);
    const now = cpu();
    if (now === last) return now;
    last = now;
  }
  return last;
}
