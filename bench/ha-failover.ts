// Failover: COUNT simulated agents (--follow: the real agent's pings, backoff and resume)
// all on replica A, A killed with SIGKILL, a lock created through B at once (then A is
// started again and the next round kills B, where they are now); per agent,
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

/** One kill: every agent was on `killed`. */
export interface HaFailoverRound {
  killed: string;
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
  /** The simulator's CPU seconds from the kill until every agent resumed (its side of the TLS handshakes and signatures). */
  simulatorCpuSeconds: number;
  /** Transactions committed in the cluster's database from the kill until every agent resumed (pg_stat_database). */
  pgTransactions: number;
}

export interface HaFailoverResult {
  agents: number;
  rounds: HaFailoverRound[];
  /** Every round's agents pooled. */
  resumedMs: Summary;
  lostMs: Summary;
  notResumed: number;
  simulatorGaps: number;
}

/**
 * `rounds` kills, replicas[0] first: its agents move to replicas[1]; the killed one is
 * started again, and the next round kills the one they are on now.
 */
export async function measureHaFailover(replicas: Replica[], admins: ApiClient[], dbUrl: string, caFile: string, token: string, count: number, rounds: number, log: (s: string) => void): Promise<HaFailoverResult> {
  const sim = new SimProcess(replicas.map((r) => r.addr), caFile, token, count, ["--follow"]);
  const pg = new SQL(dbUrl, { max: 1 });
  try {
    await sim.expect("joined", READY_TIMEOUT_MS);
    const ready = await sim.expect("ready", READY_TIMEOUT_MS);
    log(`${ready.agents} agents on ${replicas[0]!.name}: ${JSON.stringify(ready.servers)}`);
    const results: HaFailoverRound[] = [];
    const pooled = { resumed: [] as number[], lost: [] as number[] };
    for (let k = 0; k < rounds; k++) {
      const [killed, survivor] = [replicas[k % 2]!, replicas[(k + 1) % 2]!];
      await Bun.sleep(SETTLE_MS);
      const r = await killOnce(sim, pg, killed, survivor, admins[(k + 1) % 2]!, count, k);
      results.push(r.round);
      pooled.resumed.push(...r.resumed);
      pooled.lost.push(...r.lost);
      log(`kill ${k + 1} (${killed.name}): resumed p50 ${r.round.resumedMs.p50} ms, p99 ${r.round.resumedMs.p99} ms; attempts ${JSON.stringify(r.round.attempts)}; ${r.round.notResumed} not resumed`);
      await killed.restart();
    }
    const usage = await sim.ask({ cmd: "usage" }, "usage", 30_000);
    return {
      agents: Number(ready.agents), rounds: results, resumedMs: summarize(pooled.resumed), lostMs: summarize(pooled.lost),
      notResumed: results.reduce((n, r) => n + r.notResumed, 0), simulatorGaps: Number(usage.gaps),
    };
  } finally {
    await sim.stop();
    await pg.close();
  }
}

async function killOnce(sim: SimProcess, pg: SQL, killed: Replica, survivor: Replica, survivorAdmin: ApiClient, count: number, k: number) {
  const before = await procUsage(survivor.service.proc.pid);
  const simBefore = await procUsage(sim.pid);
  const tx0 = await transactions(pg);
  const killAt = Date.now();
  killed.service.proc.kill("SIGKILL");
  const lock = await survivorAdmin.request<{ name: string }>("PUT", "/v1/resources", { kind: "lock", target: { user: `ha-failover-${k}` }, message: "Benchmark: during failover." });
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
  const resumed = agents.filter((a) => a.resumedAt !== null).map((a) => a.resumedAt! - killAt);
  const lost = agents.filter((a) => a.lostAt !== null).map((a) => a.lostAt! - killAt);
  const round: HaFailoverRound = {
    killed: killed.name, onKilled: agents.length,
    lostMs: summarize(lost), resumedMs: summarize(resumed), notResumed: agents.length - resumed.length,
    resumedBy: tally(agents.flatMap((a) => (a.resumedAt !== null ? [a.type ?? "?"] : []))),
    attempts: tally(agents.flatMap((a) => (a.resumedAt !== null ? [String(a.attempts)] : []))),
    failedAttempts: tally(failures.map((f) => `${f.on}: ${f.reason}`)),
    failedOnSurvivorMs: summarize(failures.filter((f) => f.on === "other").map((f) => f.ms)),
    lockFromKillMs: summarize(lockTimes.map((t) => t - killAt)), lockMissing: count - lockTimes.length,
    survivor: { before, after, cpuSeconds: Math.round((after.cpuSeconds - before.cpuSeconds) * 1000) / 1000, feedsAfter: (usage.servers as Record<string, number>)[survivor.addr] ?? 0 },
    simulatorCpuSeconds: Math.round((simAfter.cpuSeconds - simBefore.cpuSeconds) * 1000) / 1000,
    pgTransactions: tx1 - tx0,
  };
  return { round, resumed, lost };
}

async function transactions(pg: SQL): Promise<number> {
  const [row] = await pg`SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()`;
  return Number((row as { n: string }).n);
}
