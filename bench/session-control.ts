// Session-control benchmark (issue 4): the auth service and an agent as separate
// processes on loopback. Measures the max_connections lease round trip (acquire +
// release) as an agent makes it, 50 parallel `ssh node true` with max_connections = 50
// (every one must get in), and how fast the auth service ingests audit events from
// 20 simulated agents. Writes bench/results/session-control.json and prints a table.
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { hostwardCommand, type HostwardCommand } from "./hostward-build.ts";
import { loginName } from "./login-name.ts";
import { machineInfo } from "./machine-info.ts";
import { runCaptured, tail } from "./run-captured.ts";
import { joinSimNodes, type SimNode } from "./sim-nodes.ts";
import { startSplitCluster, type SplitCluster } from "./split-cluster.ts";
import { sshCommand } from "./ssh-client.ts";
import { summarize, type Summary } from "./stats.ts";
import { formatTable } from "./text-table.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RESULTS = join(ROOT, "bench", "results", "session-control.json");
const LEASE_WARMUP = 20;
const LEASE_RUNS = 500;
const PARALLEL = 50;
const PARALLEL_ROUNDS = 3;
const LOGIN_TIMEOUT_MS = 60_000;
const SIM_AGENTS = 20;
const INGEST = [
  { batch: 100, batchesPerAgent: 10 },
  { batch: 1, batchesPerAgent: 50 },
];

export async function run(): Promise<object> {
  const source = process.env.HOSTWARD_BENCH_SOURCE === "head" ? "head" : "worktree";
  const machine = await machineInfo(ROOT);
  const loadBefore = loadavg()[0]!;
  const dir = mkdtempSync(join(tmpdir(), "hostward-bench-sessctl-"));
  let cluster: SplitCluster | undefined;
  try {
    const hw = await usableHostward(await hostwardCommand(ROOT, source, dir));
    log(`hostward: ${hw.mode} from ${source} (${hw.note})`);
    mkdirSync(join(dir, "cluster"), { mode: 0o700 });
    cluster = await startSplitCluster(join(dir, "cluster"), hw, await loginName(), "bench", `max_connections = ${PARALLEL}`);
    const { token } = JSON.parse(await cluster.ctl("tokens", "add", "--reusable", "--format", "json")) as { token: string };
    const nodes = await joinSimNodes(cluster.authAddr, cluster.caCertPem, token, SIM_AGENTS);
    const lease = await leaseRoundTrip(nodes[0]!);
    log(`lease round trip: p50 ${lease.p50.toFixed(2)} ms, p99 ${lease.p99.toFixed(2)} ms`);
    // Rounds with the limit and without it, interleaved: the same machine, the same moment.
    const parallel = [];
    const unlimited = [];
    for (let r = 0; r < PARALLEL_ROUNDS; r++) {
      await cluster.setRoleOptions(`max_connections = ${PARALLEL}`); // returns once the agent has it
      parallel.push(await parallelLogins(cluster, "max_connections = 50"));
      await cluster.setRoleOptions("");
      unlimited.push(await parallelLogins(cluster, "no limit"));
    }
    const ingest = [];
    for (const cfg of INGEST) ingest.push(await ingestRate(nodes, cfg.batch, cfg.batchesPerAgent));
    const report = {
      benchmark: "session-control", date: machine.date, machine, hostward: { mode: hw.mode, source: hw.source, srcDirty: hw.srcDirty, note: hw.note },
      setup: "auth service and one agent as separate hostward processes on loopback; simulated agents and ssh clients on the same machine",
      loadAverage1m: { before: round2(loadBefore), after: round2(loadavg()[0]!), note: "other work on the machine shows here; the parallel-login wall times depend on it" },
      leaseRoundTripMs: { what: "POST /v1/semaphores/acquire then /release, sequential, from one node identity (HTTPS, keep-alive), ms", warmup: LEASE_WARMUP, ...lease },
      parallelLogins: {
        what: `${PARALLEL} parallel \`ssh node true\` for one user whose role sets max_connections = ${PARALLEL}; ${PARALLEL_ROUNDS} rounds back to back`,
        rounds: parallel,
        refusals: parallel.reduce((n, r) => n + r.failures, 0),
        unlimitedRounds: unlimited,
        unlimitedNote: "the same logins with the role's limit removed, interleaved with the limited rounds: the machine's own cost of 50 parallel handshakes",
      },
      ingest: { what: `${SIM_AGENTS} simulated agents POST /v1/events concurrently, each its batches in sequence; session.start/session.end pairs (the inventory is updated too)`, runs: ingest },
    };
    mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
    writeFileSync(RESULTS, JSON.stringify(report, null, 2) + "\n");
    console.log(table(report));
    console.log(`\nwrote ${relative(process.cwd(), RESULTS) || RESULTS}`);
    if (report.parallelLogins.refusals > 0) throw new Error(`${report.parallelLogins.refusals} of ${PARALLEL * PARALLEL_ROUNDS} parallel logins failed under max_connections = ${PARALLEL}`);
    return report;
  } finally {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A failed build must not leave us measuring an older binary without this code: run the sources then. */
async function usableHostward(hw: HostwardCommand): Promise<HostwardCommand> {
  if (hw.mode !== "compiled" || !hw.note.includes("used the older dist/hostward")) return hw;
  const bun = join(ROOT, "node_modules", ".bin", "bun");
  return { ...hw, cmd: [bun, join(ROOT, "src", "cli.ts")], mode: "source", note: hw.note.replace("used the older dist/hostward", "ran bun src/cli.ts instead") };
}

async function leaseRoundTrip(node: SimNode): Promise<Summary> {
  const samples: number[] = [];
  for (let i = 0; i < LEASE_WARMUP + LEASE_RUNS; i++) {
    const ref = { key: "connection/bench-lease", holder: `${node.serverId}/rt-${i}` };
    const t0 = performance.now();
    const res = await node.api.request<{ acquired: boolean }>("POST", "/v1/semaphores/acquire", { ...ref, max: 1 });
    await node.api.request("POST", "/v1/semaphores/release", ref);
    if (!res.acquired) throw new Error(`lease round trip ${i}: not acquired (a lease lingered)`);
    if (i >= LEASE_WARMUP) samples.push(performance.now() - t0);
  }
  return summarize(samples);
}

async function parallelLogins(cluster: SplitCluster, label: string) {
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: PARALLEL }, () => runCaptured(sshCommand(cluster.target, "true"), LOGIN_TIMEOUT_MS)));
  const wallMs = performance.now() - t0;
  const failed = results.filter((r) => r.code !== 0);
  const round = { n: PARALLEL, failures: failed.length, wallMs: round2(wallMs), loginMs: summarize(results.map((r) => r.ms)), firstErrors: failed.slice(0, 3).map((r) => tail(r.stderr, 200)) };
  log(`${PARALLEL} parallel logins (${label}): ${failed.length} failed, wall ${wallMs.toFixed(0)} ms, p50 ${round.loginMs.p50.toFixed(0)} ms`);
  return round;
}

async function ingestRate(nodes: SimNode[], batch: number, batchesPerAgent: number) {
  let stored = 0;
  const t0 = performance.now();
  await Promise.all(nodes.map(async (n) => {
    for (let b = 0; b < batchesPerAgent; b++) {
      const res = await n.api.request<{ stored: number }>("POST", "/v1/events", { events: sessionEvents(batch) });
      stored += res.stored;
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  const events = nodes.length * batch * batchesPerAgent;
  if (stored !== events) throw new Error(`ingest: sent ${events} events, auth stored ${stored}`);
  const run = { agents: nodes.length, batch, events, seconds: round2(seconds), eventsPerSec: Math.round(events / seconds), requestsPerSec: Math.round((events / batch) / seconds) };
  log(`ingest, batch ${batch}: ${run.eventsPerSec} events/s (${events} events in ${seconds.toFixed(2)} s)`);
  return run;
}

function sessionEvents(n: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; out.length < n; i++) {
    const sid = randomUUID();
    const base = { user: "bench", login: "root", proto: "ssh", sid };
    out.push({ uid: randomUUID(), time: new Date().toISOString(), event: "session.start", code: "T2000I", session_kind: "exec", ...base });
    if (out.length < n) out.push({ uid: randomUUID(), time: new Date().toISOString(), event: "session.end", code: "T2004I", exit_code: 0, ...base });
  }
  return out;
}

interface Round { n: number; failures: number; wallMs: number; loginMs: Summary }

function table(r: { leaseRoundTripMs: Summary; parallelLogins: { rounds: Round[]; unlimitedRounds: Round[] }; ingest: { runs: { batch: number; events: number; eventsPerSec: number }[] } }): string {
  const round = (x: Round, what: string) => [what, `${x.failures} refused`, `wall ${x.wallMs.toFixed(0)} ms, login p50 ${x.loginMs.p50.toFixed(0)} ms`];
  const rows = [
    ["lease acquire+release round trip", `p50 ${r.leaseRoundTripMs.p50.toFixed(2)} ms`, `p99 ${r.leaseRoundTripMs.p99.toFixed(2)} ms`],
    ...r.parallelLogins.rounds.flatMap((x, i) => [
      round(x, `${x.n} parallel ssh true, max_connections=${x.n}, round ${i + 1}`),
      round(r.parallelLogins.unlimitedRounds[i]!, `${x.n} parallel ssh true, no limit, round ${i + 1}`),
    ]),
    ...r.ingest.runs.map((x) => [`events ingest, ${SIM_AGENTS} agents, batch ${x.batch}`, `${x.eventsPerSec} events/s`, `${x.events} events`]),
  ];
  return formatTable(["session control", "result", "detail"], rows);
}


function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function log(s: string): void {
  console.error(`[session-control] ${s}`);
}
