// Fan-out: a real auth service (TestCluster) followed by COUNT simulated agents in a
// separate process (bench/fanout-agents.ts); for each of a few locks, when every agent
// received its change, against the PUT /v1/resources answer on the same clock; and the
// auth service's RSS and CPU time before joins, with every feed open, and after the locks.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { clientFor } from "../src/platform/identity-selection.ts";
import { readIdentity } from "../src/platform/identity-file.ts";
import { TestCluster } from "../test/helpers/cluster.ts";
import { procUsage, type ProcUsage } from "./proc-usage.ts";
import { summarize, type Summary } from "./stats.ts";
import { LineEvents } from "./line-events.ts";

export const AGENTS = 5_000;
const ROUNDS = 3;
const READY_TIMEOUT_MS = 300_000;
const RECEIVE_TIMEOUT_MS = 10_000;
const PAUSE_MS = 500;

export interface FanoutRound {
  lock: string;
  apiMs: number;
  /** Per agent, ms from the API answer until it received the change (negative: before the answer arrived). */
  fromAnswerMs: Summary;
  /** Per agent, ms from sending the PUT. */
  fromSendMs: Summary;
  missing: number;
}

export interface FanoutResult {
  agents: number;
  joinSeconds: number;
  connectSeconds: number;
  rounds: FanoutRound[];
  /** All rounds pooled. */
  pooledFromSendMs: Summary;
  pooledFromAnswerMs: Summary;
  auth: { idle: ProcUsage; feedsOpen: ProcUsage; afterLocks: ProcUsage; cpuSecondsForLocks: number };
  simulator: { feedsOpen: ProcUsage };
}

export async function measureFanout(log: (s: string) => void, count = AGENTS): Promise<FanoutResult> {
  const c = new TestCluster();
  let sim: ReturnType<typeof Bun.spawn> | undefined;
  try {
    await c.startAuth();
    const authPid = c.auth.proc.pid;
    const admin = clientFor({ kind: "identity", path: c.identity });
    const { token } = JSON.parse(await c.ctlOk("tokens", "add", "--reusable", "--ttl", "1h", "--format", "json")) as { token: string };
    const caFile = join(c.dir, "ca.pem");
    writeFileSync(caFile, readIdentity(c.identity).caCertPem);
    const idle = await procUsage(authPid);
    const script = new URL("./fanout-agents.ts", import.meta.url).pathname;
    sim = Bun.spawn(["sh", "-c", 'ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"', process.execPath, script, c.authAddr, caFile, token, String(count)],
      { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    const events = new LineEvents(sim.stdout as ReadableStream<Uint8Array>);
    const joined = await events.next(READY_TIMEOUT_MS);
    log(`${joined.agents} simulated agents joined in ${Number(joined.seconds).toFixed(1)} s`);
    const ready = await events.next(READY_TIMEOUT_MS);
    if (ready.event !== "ready") throw new Error(`simulator: ${JSON.stringify(ready)}`);
    log(`${ready.agents} change feeds open in ${Number(ready.connectSeconds).toFixed(1)} s`);
    await Bun.sleep(PAUSE_MS);
    const feedsOpen = await procUsage(authPid);
    const simUsage = await procUsage(sim.pid);
    const rounds: FanoutRound[] = [];
    const pooled = { send: [] as number[], answer: [] as number[] };
    for (let i = 0; i < ROUNDS; i++) {
      const sent = Date.now();
      const lock = await admin.request<{ name: string }>("PUT", "/v1/resources", { kind: "lock", target: { user: `fanout-${i}` }, message: "Benchmark." });
      const answered = Date.now();
      const stdin = sim.stdin as import("bun").FileSink;
      stdin.write(JSON.stringify({ cmd: "await", lock: lock.name, timeoutMs: RECEIVE_TIMEOUT_MS }) + "\n");
      stdin.flush();
      const got = await events.next(RECEIVE_TIMEOUT_MS + 30_000);
      const times = (got.times as (number | null)[]).filter((t): t is number => t !== null);
      pooled.answer.push(...times.map((t) => t - answered));
      pooled.send.push(...times.map((t) => t - sent));
      rounds.push({
        lock: lock.name, apiMs: answered - sent, missing: count - times.length,
        fromAnswerMs: summarize(times.map((t) => t - answered)), fromSendMs: summarize(times.map((t) => t - sent)),
      });
      await Bun.sleep(PAUSE_MS);
    }
    const afterLocks = await procUsage(authPid);
    const stdin = sim.stdin as import("bun").FileSink;
    stdin.write(JSON.stringify({ cmd: "quit" }) + "\n");
    stdin.flush();
    return {
      agents: Number(ready.agents), joinSeconds: Number(ready.joinSeconds), connectSeconds: Number(ready.connectSeconds), rounds,
      pooledFromSendMs: summarize(pooled.send), pooledFromAnswerMs: summarize(pooled.answer),
      auth: { idle, feedsOpen, afterLocks, cpuSecondsForLocks: afterLocks.cpuSeconds - feedsOpen.cpuSeconds },
      simulator: { feedsOpen: simUsage },
    };
  } finally {
    sim?.kill("SIGKILL");
    await sim?.exited;
    await c.close();
  }
}
