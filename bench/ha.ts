// `bun run bench ha`: the auth service highly available on PostgreSQL (issue 11).
// 1. The store alone, PostgreSQL beside SQLite: event ingest, lease round trip, a lock's
//    commit read by a second store instance after NOTIFY (bench/ha-store.ts).
// 2. Two `hostward auth start` replicas of the compiled binary on one fresh database:
//    lock fan-out to 10,000 simulated agents spread over both, with each replica's RSS and
//    CPU (bench/ha-fanout.ts); then 1,000 agents on one replica, that replica killed with
//    SIGKILL, and the time until each resumed its feed on the other, three kills in turn
//    (bench/ha-failover.ts).
// Prints each figure beside its goal; writes bench/results/ha.json with the machine and
// load. Needs the local PostgreSQL (HOSTWARD_BENCH_PG for another admin URL).
// HOSTWARD_BENCH_HA_AGENTS / _FAILOVER_AGENTS / _SIMS / _KILLS change the counts (for trials).
import { SQL } from "bun";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { PostgresStore } from "../src/auth/postgres-store.ts";
import { SqliteStore } from "../src/auth/sqlite-store.ts";
import { clientFor } from "../src/platform/identity-selection.ts";
import { readIdentity } from "../src/platform/identity-file.ts";
import { measureHaFailover, type HaFailoverResult, type HaFailoverRound } from "./ha-failover.ts";
import { measureHaFanout, type HaFanoutResult } from "./ha-fanout.ts";
import { startReplicas } from "./ha-replicas.ts";
import { crossReplica, measureStore, type BackendFigures } from "./ha-store.ts";
import { hostwardCommand } from "./hostward-build.ts";
import { machineInfo } from "./machine-info.ts";
import { busyShare, machineCpuTicks } from "./proc-usage.ts";
import type { Summary } from "./stats.ts";
import { formatTable } from "./text-table.ts";

const ROOT = join(import.meta.dir, "..");
const PG_ADMIN = process.env.HOSTWARD_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/postgres";
const AGENTS = Number(process.env.HOSTWARD_BENCH_HA_AGENTS ?? 10_000);
const FAILOVER_AGENTS = Number(process.env.HOSTWARD_BENCH_HA_FAILOVER_AGENTS ?? 1_000);
/** Simulator processes for the fan-out: one per replica (see the README for the measurement behind it). */
const SIMS = Number(process.env.HOSTWARD_BENCH_HA_SIMS ?? 2);
/** Kills in the failover part (a, then b, then a: the killed replica is started again each time). */
const KILLS = Number(process.env.HOSTWARD_BENCH_HA_KILLS ?? 3);
const FANOUT_GOAL_MS = 1_000;
const FAILOVER_GOAL_MS = 5_000;

export async function run(): Promise<object> {
  const machine = await machineInfo(ROOT);
  const load: Record<string, number[]> = { start: loadavg() };
  const busy: Record<string, number> = {};
  let ticks = machineCpuTicks();
  const part = (name: string) => {
    const now = machineCpuTicks();
    busy[name] = Math.round(busyShare(ticks, now) * 1000) / 1000;
    ticks = now;
    load[`after${name[0]!.toUpperCase()}${name.slice(1)}`] = loadavg();
  };
  const dir = mkdtempSync(join(tmpdir(), "hostward-bench-ha-"));
  try {
    const store = await storeFigures(dir);
    part("store");
    const hw = await hostwardCommand(ROOT, "worktree", dir);
    log(`hostward: ${hw.cmd.join(" ")} (${hw.note})`);
    const set = await startReplicas(dir, hw, PG_ADMIN, ["a", "b"]);
    let fanout: HaFanoutResult, failover: HaFailoverResult;
    try {
      const [a, b] = set.replicas as [typeof set.replicas[0], typeof set.replicas[0]];
      const admins = set.replicas.map((r) => clientFor({ kind: "identity", path: r.identity }));
      const { token } = await admins[0]!.request<{ token: string }>("POST", "/v1/tokens", { ttl: "3h", reusable: true });
      const caFile = join(dir, "ca.pem");
      writeFileSync(caFile, readIdentity(a.identity).caCertPem);
      fanout = await measureHaFanout(set.replicas, admins, caFile, token, AGENTS, SIMS, log);
      part("fanout");
      failover = await measureHaFailover([a, b], admins, set.url, caFile, token, FAILOVER_AGENTS, KILLS, log);
      part("failover");
    } finally {
      await set.stop();
    }
    const result = report(machine, hw, load, busy, store, fanout, failover);
    console.log(table(result));
    writeFileSync(join(ROOT, "bench/results/ha.json"), JSON.stringify(result, null, 2) + "\n");
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function storeFigures(dir: string) {
  const dbName = `hostward_bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = new SQL(PG_ADMIN, { max: 1 });
  await admin.unsafe(`CREATE DATABASE ${dbName}`).simple();
  const url = PG_ADMIN.replace(/\/[^/?]*(\?|$)/, `/${dbName}$1`);
  try {
    const sqlite = SqliteStore.open(join(dir, "auth.db"));
    const sqliteFigures = await measureStore(sqlite);
    await sqlite.close();
    const a = await PostgresStore.open(url);
    const b = await PostgresStore.open(url);
    const pgFigures = await measureStore(a);
    const wakeMs = await crossReplica(a, b);
    await a.close();
    await b.close();
    return { sqlite: sqliteFigures, postgres: { ...pgFigures, lockToOtherReplicaMs: wakeMs } };
  } finally {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).simple();
    await admin.close();
  }
}

type Report = ReturnType<typeof report>;

function report(machine: object, hw: { cmd: string[]; note: string; srcDirty: boolean }, load: Record<string, number[]>, busy: Record<string, number>,
  store: { sqlite: BackendFigures; postgres: BackendFigures & { lockToOtherReplicaMs: Summary } }, fanout: HaFanoutResult, failover: HaFailoverResult) {
  const fanMissing = fanout.rounds.reduce((n, r) => n + r.missing, 0);
  const targets = [
    { name: `lock fan-out to ${fanout.agents} agents over 2 replicas`, metric: "p99 ms from the API answer", goal: `<= ${FANOUT_GOAL_MS}`, value: fanout.pooledFromAnswerMs.p99, pass: fanout.pooledFromAnswerMs.p99 <= FANOUT_GOAL_MS && fanMissing === 0 },
    { name: `failover of ${failover.agents} agents after kill -9 (${failover.rounds.length} kills pooled)`, metric: "p99 ms from the kill to the first feed message on the other replica", goal: `<= ${FAILOVER_GOAL_MS}`, value: failover.resumedMs.p99, pass: failover.resumedMs.p99 <= FAILOVER_GOAL_MS && failover.notResumed === 0 },
  ];
  return {
    benchmark: "ha",
    date: (machine as { date: string }).date,
    machine,
    loadAverage: load,
    machineCpuBusy: { ...busy, note: "share of all CPUs busy during each part (from /proc/stat), this benchmark's own processes included; other engineers' builds and tests share the 2 cores" },
    hostward: { how: `${hw.cmd.join(" ")} auth start, two replicas (own data dir and port each, log_level info) on one fresh PostgreSQL database, recordings in one file:// directory with shared = true; ${hw.note}`, srcDirty: hw.srcDirty },
    targets,
    store: { what: "the store contract in the bench process (no HTTP)", ...store },
    fanout: {
      what: `${fanout.agents} simulated agents (bench/fanout-agents.ts --follow) in ${fanout.simulators} process(es), spread evenly over the two replicas: each joined once with a reusable token and its own ed25519 identity key, then followed /v1/watch (ws package, signed request token) pinging every 2 s like the real agent. ${fanout.rounds.length} locks, created through each replica in turn; per agent, Date.now() at receipt against the PUT's answer and its sending (same machine). A replica publishes its own write before it answers, so on that replica from-answer times are mostly negative; agents on the other replica get it after NOTIFY wakes their replica's hub`,
      ...fanout,
    },
    failover: {
      what: `${failover.agents} simulated agents with auth_servers = [a, b], all on a; a killed with SIGKILL and a lock created through b right after; a started again, then b killed (the agents now on it), and so on, ${failover.rounds.length} kills. Per agent and kill: when its feed on a closed and when its first feed message on b arrived after a reconnect (backoff with jitter and failover as src/agent/feed-client.ts; resume with since=<revision>&hash=<history hash>), from the kill (Date.now() just before kill(2))`,
      ...failover,
    },
  };
}

function table(r: Report): string {
  const ms = (s: Summary) => `${fmt(s.p50)} / ${fmt(s.p99)}`;
  const mib = (n: number) => `${n.toFixed(0)} MiB`;
  const rows: string[][] = [];
  for (const t of r.targets) rows.push([t.name, t.metric, fmt(t.value), t.goal, t.pass ? "pass" : "MISS"]);
  const f = r.fanout;
  rows.push(["fan-out: p50 / p99 ms from the answer", "all agents", ms(f.pooledFromAnswerMs), "", ""]);
  rows.push(["fan-out: p50 / p99 ms from sending the PUT", "all agents", ms(f.pooledFromSendMs), "", ""]);
  rows.push(["fan-out: agents on the replica that took the PUT", "p50 / p99 ms from the answer", ms(f.pooledSameReplicaFromAnswerMs), "", ""]);
  rows.push(["fan-out: agents on the other replica (NOTIFY)", "p50 / p99 ms from the answer", ms(f.pooledOtherReplicaFromAnswerMs), "", ""]);
  rows.push([`fan-out: simulator CPU (${f.simulators} process(es)) for joins + feeds; during the locks`, "CPU s", f.simulatorUsage.map((u) => `${u.feedsOpen.cpuSeconds.toFixed(1)}; ${(u.afterLocks.cpuSeconds - u.feedsOpen.cpuSeconds).toFixed(1)}`).join(" | "), "", ""]);
  for (const [name, u] of Object.entries(f.replicas)) {
    rows.push([`replica ${name}: RSS idle → ${u.feeds} feeds open → after locks`, "VmRSS", `${mib(u.idle.rssMiB)} → ${mib(u.feedsOpen.rssMiB)} → ${mib(u.afterLocks.rssMiB)}`, "", ""]);
    rows.push([`replica ${name}: CPU for joins + feeds; quiet (pings); ${f.rounds.length} locks`, "CPU s; cores; CPU s", `${(u.feedsOpen.cpuSeconds - u.idle.cpuSeconds).toFixed(1)}; ${u.quietCpuShare}; ${u.cpuSecondsForLocks}`, "", ""]);
  }
  const o = r.failover;
  const merge = (pick: (x: HaFailoverRound) => Record<string, number>) => {
    const m: Record<string, number> = {};
    for (const x of o.rounds) for (const [k, v] of Object.entries(pick(x))) m[k] = (m[k] ?? 0) + v;
    return JSON.stringify(m);
  };
  rows.push(["failover: feed closed after the kill", "p50 / p99 ms", ms(o.lostMs), "", ""]);
  rows.push(["failover: first feed message on the survivor after the kill", "p50 / p99 ms", ms(o.resumedMs), "", o.notResumed ? `${o.notResumed} not resumed` : ""]);
  rows.push(["failover: p99 of each kill", "ms", o.rounds.map((x) => `${x.killed}: ${x.resumedMs.p99}`).join(", "), "", ""]);
  rows.push(["failover: resumed by", "changes = from its revision", merge((x) => x.resumedBy), "", ""]);
  rows.push(["failover: attempts per agent; failed attempts", "count", `${merge((x) => x.attempts)}; ${merge((x) => x.failedAttempts)}`, "", ""]);
  rows.push(["failover: lock made through the survivor at the kill, received", "p99 ms from the kill, each kill", o.rounds.map((x) => `${x.lockFromKillMs.p99}${x.lockMissing ? ` (${x.lockMissing} missing)` : ""}`).join(", "), "", ""]);
  rows.push(["failover: CPU of the survivor; of the simulator; PostgreSQL transactions", "CPU s; CPU s; count, each kill", o.rounds.map((x) => `${x.survivor.cpuSeconds}; ${x.simulatorCpuSeconds}; ${x.pgTransactions}`).join(" | "), "", ""]);
  const s = r.store;
  rows.push(["store: audit events stored per second (SQLite / PostgreSQL)", "100-event batches, 4 senders", `${s.sqlite.eventsPerSecond} / ${s.postgres.eventsPerSecond}`, "", ""]);
  rows.push(["store: lease acquire + release, SQLite", "p50 / p99 ms", ms(s.sqlite.leaseRoundTripMs), "", ""]);
  rows.push(["store: lease acquire + release, PostgreSQL", "p50 / p99 ms", ms(s.postgres.leaseRoundTripMs), "", ""]);
  rows.push(["store: lock on instance A read by B after NOTIFY", "p50 / p99 ms", ms(s.postgres.lockToOtherReplicaMs), "", ""]);
  return formatTable(["measure", "metric", "value", "goal", "result"], rows) + `\nload average ${JSON.stringify(r.loadAverage)}; machine CPU busy ${JSON.stringify(r.machineCpuBusy).replace(/,"note".*/, "}")}`;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

function log(s: string): void {
  console.error(`[ha] ${s}`);
}
