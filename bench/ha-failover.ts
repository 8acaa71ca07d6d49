// Failover: COUNT simulated agents (--follow: the real agent's pings, backoff and resume)
// all on replica A, A killed with SIGKILL, a lock created through B at once; per agent,
// the time from the kill to its first feed message on B after resuming, whether that was
// a resume from its revision ("changes") or a snapshot, the attempts it took, and when it
// had the lock; B's CPU and RSS for taking them over, and PostgreSQL's transactions.
import { SQL } from "bun";
import type { ApiClient } from "../src/platform/api-client.ts";
import type { Replica } from "./ha-replicas.ts";
import { procUsage, type ProcUsage } from "./proc-usage.ts";
import { SimProcess } from "./sim-process.ts";
import { summarize, type Summary } from "./stats.ts";

const READY_TIMEOUT_MS = 300_000;
const RESUME_TIMEOUT_MS = 60_000;
const SETTLE_MS = 3_000;

export interface HaFailoverResult {
  agents: number;
  onKilled: number;
  /** Per agent, ms from the kill: its feed closed; its first message on the other replica. */
  lostMs: Summary;
  resumedMs: Summary;
  notResumed: number;
  resumedBy: Record<string, number>;
  attempts: Record<string, number>;
  /** Attempts that failed before the resume: "killed|other: reason" → count, and how long those on the survivor took to fail. */
  failedAttempts: Record<string, number>;
  failedOnSurvivorMs: Summary;
  /** The lock created through the survivor right after the kill: ms from the kill to each agent's receipt. */
  lockFromKillMs: Summary;
  lockMissing: number;
  survivor: { before: ProcUsage; after: ProcUsage; cpuSeconds: number; feedsAfter: number };
  /** The simulator's CPU seconds from the kill until every agent resumed (its side of 1,000 TLS handshakes and signatures). */
  simulatorCpuSeconds: number;
  /** Transactions committed in the cluster's database from the kill until every agent resumed (pg_stat_database). */
  pgTransactions: number;
  simulatorGaps: number;
}

export async function measureHaFailover(killed: Replica, survivor: Replica, survivorAdmin: ApiClient, dbUrl: string, caFile: string, token: string, count: number, log: (s: string) => void): Promise<HaFailoverResult> {
  const sim = new SimProcess([killed.addr, survivor.addr], caFile, token, count, ["--follow"]);
  const pg = new SQL(dbUrl, { max: 1 });
  try {
    await sim.expect("joined", READY_TIMEOUT_MS);
    const ready = await sim.expect("ready", READY_TIMEOUT_MS);
    log(`${ready.agents} agents on ${killed.name}: ${JSON.stringify(ready.servers)}`);
    await Bun.sleep(SETTLE_MS);
    const before = await procUsage(survivor.service.proc.pid);
    const simBefore = await procUsage(sim.pid);
    const tx0 = await transactions(pg);
    const killAt = Date.now();
    killed.service.proc.kill("SIGKILL");
    const lock = await survivorAdmin.request<{ name: string }>("PUT", "/v1/resources", { kind: "lock", target: { user: "ha-failover" }, message: "Benchmark: during failover." });
    const res = await sim.ask({ cmd: "resumes", from: killed.addr, after: killAt, timeoutMs: RESUME_TIMEOUT_MS }, "resumes", RESUME_TIMEOUT_MS + 60_000);
    const after = await procUsage(survivor.service.proc.pid);
    const simAfter = await procUsage(sim.pid);
    // Statistics reach pg_stat_database when a backend goes idle: give them a moment.
    await Bun.sleep(1_500);
    const tx1 = await transactions(pg);
    const agents = res.agents as { lostAt: number | null; resumedAt: number | null; type: string | null; attempts: number; failures: { on: string; reason: string; ms: number }[] }[];
    const failures = agents.flatMap((a) => a.failures);
    const got = await sim.ask({ cmd: "await", lock: lock.name, timeoutMs: 10_000 }, "received", 70_000);
    const lockTimes = (got.times as (number | null)[]).filter((t): t is number => t !== null);
    const usage = await sim.ask({ cmd: "usage" }, "usage", 30_000);
    const tally = (xs: string[]) => xs.reduce<Record<string, number>>((m, x) => ((m[x] = (m[x] ?? 0) + 1), m), {});
    const resumed = agents.filter((a) => a.resumedAt !== null);
    return {
      agents: Number(ready.agents), onKilled: agents.length,
      lostMs: summarize(agents.filter((a) => a.lostAt !== null).map((a) => a.lostAt! - killAt)),
      resumedMs: summarize(resumed.map((a) => a.resumedAt! - killAt)),
      notResumed: agents.length - resumed.length,
      resumedBy: tally(resumed.map((a) => a.type ?? "?")),
      attempts: tally(resumed.map((a) => String(a.attempts))),
      failedAttempts: tally(failures.map((f) => `${f.on}: ${f.reason}`)),
      failedOnSurvivorMs: summarize(failures.filter((f) => f.on === "other").map((f) => f.ms)),
      lockFromKillMs: summarize(lockTimes.map((t) => t - killAt)), lockMissing: count - lockTimes.length,
      survivor: { before, after, cpuSeconds: Math.round((after.cpuSeconds - before.cpuSeconds) * 1000) / 1000, feedsAfter: (usage.servers as Record<string, number>)[survivor.addr] ?? 0 },
      simulatorCpuSeconds: Math.round((simAfter.cpuSeconds - simBefore.cpuSeconds) * 1000) / 1000,
      pgTransactions: tx1 - tx0,
      simulatorGaps: Number(usage.gaps),
    };
  } finally {
    await sim.stop();
    await pg.close();
  }
}

async function transactions(pg: SQL): Promise<number> {
  const [row] = await pg`SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()`;
  return Number((row as { n: string }).n);
}
