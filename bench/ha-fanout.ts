// Lock fan-out over two auth replicas: COUNT simulated agents (bench/fanout-agents.ts,
// --follow: pings and failover as the real agent) spread evenly over them; locks created
// through each replica in turn; per agent, the time from the lock's API answer (and from
// sending it) to its receipt, split by whether the agent follows the replica that took
// the PUT or the other one (reached through NOTIFY). Each replica's RSS and CPU: idle,
// with every feed open, over a quiet window (pings only), and for the locks.
import type { ApiClient } from "../src/platform/api-client.ts";
import type { Replica } from "./ha-replicas.ts";
import { procUsage, type ProcUsage } from "./proc-usage.ts";
import { SimProcess } from "./sim-process.ts";
import { summarize, type Summary } from "./stats.ts";

const ROUNDS = 6;
const READY_TIMEOUT_MS = 600_000;
const RECEIVE_TIMEOUT_MS = 15_000;
const PAUSE_MS = 1_000;
/** With every feed open and nothing changing: what the agents' pings alone cost each replica. */
const QUIET_MS = 10_000;

export interface HaFanoutRound {
  lock: string;
  via: string;
  apiMs: number;
  fromAnswerMs: Summary;
  fromSendMs: Summary;
  /** From the answer, agents on the replica that took the PUT / on the other one. */
  sameReplicaFromAnswerMs: Summary;
  otherReplicaFromAnswerMs: Summary;
  missing: number;
  closed: number;
}

export interface ReplicaUsage {
  idle: ProcUsage;
  feedsOpen: ProcUsage;
  quietEnd: ProcUsage;
  afterLocks: ProcUsage;
  feeds: number;
  /** CPU seconds per second over the quiet window (1 = one core). */
  quietCpuShare: number;
  cpuSecondsForLocks: number;
}

export interface HaFanoutResult {
  agents: number;
  simulators: number;
  joinSeconds: number[];
  connectSeconds: number[];
  rounds: HaFanoutRound[];
  pooledFromAnswerMs: Summary;
  pooledFromSendMs: Summary;
  pooledSameReplicaFromAnswerMs: Summary;
  pooledOtherReplicaFromAnswerMs: Summary;
  replicas: Record<string, ReplicaUsage>;
  simulatorUsage: { feedsOpen: ProcUsage; afterLocks: ProcUsage }[];
}

/** `sims` simulator processes: 1 (every agent in one, spread) or one per replica (its agents start there). */
export async function measureHaFanout(replicas: Replica[], admins: ApiClient[], caFile: string, token: string, count: number, sims: number, log: (s: string) => void): Promise<HaFanoutResult> {
  const addrs = replicas.map((r) => r.addr);
  const pids = replicas.map((r) => r.service.proc.pid);
  const idle = await Promise.all(pids.map(procUsage));
  const procs: SimProcess[] = [];
  try {
    if (sims === 1) procs.push(new SimProcess(addrs, caFile, token, count, ["--spread", "--follow"]));
    else for (let i = 0; i < addrs.length; i++) procs.push(new SimProcess([...addrs.slice(i), ...addrs.slice(0, i)], caFile, token, Math.round(count / addrs.length), ["--follow"]));
    const joined = await Promise.all(procs.map((p) => p.expect("joined", READY_TIMEOUT_MS)));
    log(`${joined.map((j) => j.agents).join(" + ")} simulated agents joined in ${joined.map((j) => Number(j.seconds).toFixed(1)).join(" / ")} s`);
    const ready = await Promise.all(procs.map((p) => p.expect("ready", READY_TIMEOUT_MS)));
    const feeds: Record<string, number> = {};
    for (const r of ready) for (const [s, n] of Object.entries(r.servers as Record<string, number>)) feeds[s] = (feeds[s] ?? 0) + n;
    log(`change feeds open in ${ready.map((r) => Number(r.connectSeconds).toFixed(1)).join(" / ")} s: ${JSON.stringify(feeds)}`);
    await Bun.sleep(PAUSE_MS);
    const feedsOpen = await Promise.all(pids.map(procUsage));
    const quietFrom = performance.now();
    await Bun.sleep(QUIET_MS);
    const quietSeconds = (performance.now() - quietFrom) / 1000;
    const quietEnd = await Promise.all(pids.map(procUsage));
    const simOpen = await Promise.all(procs.map((p) => procUsage(p.pid)));
    const rounds: HaFanoutRound[] = [];
    const pooled = { answer: [] as number[], send: [] as number[], same: [] as number[], other: [] as number[] };
    for (let i = 0; i < ROUNDS; i++) {
      const r = i % replicas.length;
      const sent = Date.now();
      const lock = await admins[r]!.request<{ name: string }>("PUT", "/v1/resources", { kind: "lock", target: { user: `ha-fanout-${i}` }, message: "Benchmark." });
      const answered = Date.now();
      const got = await Promise.all(procs.map((p) => p.ask({ cmd: "await", lock: lock.name, timeoutMs: RECEIVE_TIMEOUT_MS }, "received", RECEIVE_TIMEOUT_MS + 60_000)));
      const times: number[] = [];
      const same: number[] = [];
      const other: number[] = [];
      for (const g of got) {
        const ts = g.times as (number | null)[];
        const on = g.servers as (string | null)[];
        ts.forEach((t, k) => {
          if (t === null) return;
          times.push(t);
          (on[k] === addrs[r] ? same : other).push(t - answered);
        });
      }
      const closed = got.reduce((n, g) => n + Number(g.closed), 0);
      pooled.answer.push(...times.map((t) => t - answered));
      pooled.send.push(...times.map((t) => t - sent));
      pooled.same.push(...same);
      pooled.other.push(...other);
      const round: HaFanoutRound = {
        lock: lock.name, via: replicas[r]!.name, apiMs: answered - sent, missing: count - times.length, closed,
        fromAnswerMs: summarize(times.map((t) => t - answered)), fromSendMs: summarize(times.map((t) => t - sent)),
        sameReplicaFromAnswerMs: summarize(same), otherReplicaFromAnswerMs: summarize(other),
      };
      rounds.push(round);
      log(`lock ${i + 1} via ${round.via}: p50 ${round.fromAnswerMs.p50} ms, p99 ${round.fromAnswerMs.p99} ms from the answer (other replica p99 ${round.otherReplicaFromAnswerMs.p99}); missing ${round.missing}`);
      await Bun.sleep(PAUSE_MS);
    }
    const afterLocks = await Promise.all(pids.map(procUsage));
    const simAfter = await Promise.all(procs.map((p) => procUsage(p.pid)));
    const usage: Record<string, ReplicaUsage> = {};
    replicas.forEach((rep, k) => {
      usage[rep.name] = {
        idle: idle[k]!, feedsOpen: feedsOpen[k]!, quietEnd: quietEnd[k]!, afterLocks: afterLocks[k]!, feeds: feeds[rep.addr] ?? 0,
        quietCpuShare: round3((quietEnd[k]!.cpuSeconds - feedsOpen[k]!.cpuSeconds) / quietSeconds),
        cpuSecondsForLocks: round3(afterLocks[k]!.cpuSeconds - quietEnd[k]!.cpuSeconds),
      };
    });
    return {
      agents: ready.reduce((n, r) => n + Number(r.agents), 0), simulators: procs.length,
      joinSeconds: ready.map((r) => Number(r.joinSeconds)), connectSeconds: ready.map((r) => Number(r.connectSeconds)), rounds,
      pooledFromAnswerMs: summarize(pooled.answer), pooledFromSendMs: summarize(pooled.send),
      pooledSameReplicaFromAnswerMs: summarize(pooled.same), pooledOtherReplicaFromAnswerMs: summarize(pooled.other),
      replicas: usage, simulatorUsage: simOpen.map((u, k) => ({ feedsOpen: u, afterLocks: simAfter[k]! })),
    };
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
  }
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
