// `bun run bench ha`: the auth store on PostgreSQL beside SQLite, measured at the store
// contract (no HTTP): audit-event ingest per second (agents' 100-event batches), the
// lease round trip (acquire + release), and — PostgreSQL only, two store instances as
// two replicas — the time from a lock's commit on one to the other's watch hub reading it
// after its NOTIFY wake-up. Writes bench/results/ha.json. Needs the local PostgreSQL.
import { SQL } from "bun";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PostgresStore } from "../src/auth/postgres-store.ts";
import { SqliteStore } from "../src/auth/sqlite-store.ts";
import type { Store } from "../src/auth/store.ts";
import { parseResource } from "../src/core/resources.ts";
import { machineInfo } from "./machine-info.ts";
import { summarize, type Summary } from "./stats.ts";
import { formatTable } from "./text-table.ts";

const ROOT = join(import.meta.dir, "..");
const PG_ADMIN = process.env.HOSTWARD_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/postgres";
const EVENTS = 20_000;
const BATCH = 100;
const LEASES = 2_000;
const LOCKS = 300;
const NODE = "11111111-1111-4111-8111-111111111111";

interface BackendFigures {
  eventsPerSecond: number;
  leaseRoundTripMs: Summary;
}

export async function run(): Promise<object> {
  const dir = mkdtempSync(join(tmpdir(), "hostward-bench-ha-"));
  const dbName = `hostward_bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = new SQL(PG_ADMIN, { max: 1 });
  await admin.unsafe(`CREATE DATABASE ${dbName}`).simple();
  const url = PG_ADMIN.replace(/\/[^/?]*(\?|$)/, `/${dbName}$1`);
  try {
    const sqlite = SqliteStore.open(join(dir, "auth.db"));
    const sqliteFigures = await measure(sqlite);
    await sqlite.close();
    const a = await PostgresStore.open(url);
    const b = await PostgresStore.open(url);
    const pgFigures = await measure(a);
    const wakeMs = await crossReplica(a, b);
    await a.close();
    await b.close();
    const result = {
      machine: await machineInfo(ROOT),
      load: "this machine's other work runs beside the benchmark (shared 2-core machine)",
      sqlite: sqliteFigures,
      postgres: { ...pgFigures, lockToOtherReplicaMs: wakeMs },
      notMeasured: "10,000 simulated agents over 2 replicas and the kill -9 failover of 1,000 agents (see README)",
    };
    printTable(result.sqlite, result.postgres);
    writeFileSync(join(ROOT, "bench/results/ha.json"), JSON.stringify(result, null, 2) + "\n");
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).simple();
    await admin.close();
  }
}

async function measure(store: Store): Promise<BackendFigures> {
  // Events as agents send them: batches, each one transaction, four agents at once.
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < EVENTS) {
      const from = next;
      next += BATCH;
      await store.atomically(async (tx) => {
        for (let i = from; i < from + BATCH; i++) {
          await tx.appendEvent({ uid: `e${i}`, event: "exec", code: "T3002I", time: new Date().toISOString(), user: "alice", server_id: NODE, command: "true" });
        }
      });
    }
  }));
  const eventsPerSecond = Math.round(EVENTS / ((performance.now() - t0) / 1000));
  const trips: number[] = [];
  for (let i = 0; i < LEASES; i++) {
    const lease = { key: "connection/alice", holder: `${NODE}/c${i}`, node: NODE, expiresAt: new Date(Date.now() + 60_000) };
    const s = performance.now();
    const got = await store.semaphores.acquire(lease, 10, new Date());
    if (!got.ok) throw new Error("lease refused");
    await store.semaphores.release(lease.key, lease.holder);
    trips.push(performance.now() - s);
  }
  return { eventsPerSecond, leaseRoundTripMs: summarize(trips) };
}

/** A lock committed through replica a, read by replica b when NOTIFY wakes it. */
async function crossReplica(a: Store, b: Store): Promise<Summary> {
  let seen = await b.revision();
  let waiting: (() => void) | undefined;
  const stop = await b.onFeedWrite(() => {
    void b.changesSince(seen).then((changes) => {
      if (!changes?.length) return;
      seen = changes.at(-1)!.rev;
      waiting?.();
    });
  });
  const times: number[] = [];
  for (let i = 0; i < LOCKS; i++) {
    const lock = parseResource({ kind: "lock", name: crypto.randomUUID(), target: { user: `u${i}` } }, "bench", { now: new Date() });
    const s = performance.now();
    const rev = await a.putResource(lock);
    while (seen < rev) await new Promise<void>((resolve) => (waiting = resolve));
    times.push(performance.now() - s);
  }
  await stop();
  return summarize(times);
}

function printTable(sqlite: BackendFigures, pg: BackendFigures & { lockToOtherReplicaMs: Summary }): void {
  const ms = (s: Summary) => `${s.p50.toFixed(2)} / ${s.p99.toFixed(2)}`;
  console.log(formatTable(["measure", "SQLite", "PostgreSQL"], [
    ["audit events stored per second (100-event batches, 4 senders)", String(sqlite.eventsPerSecond), String(pg.eventsPerSecond)],
    ["lease acquire + release, ms p50 / p99", ms(sqlite.leaseRoundTripMs), ms(pg.leaseRoundTripMs)],
    ["lock committed on replica A → read by replica B (NOTIFY), ms p50 / p99", "one replica", ms(pg.lockToOtherReplicaMs)],
  ]));
}
