// The auth store alone (no HTTP), PostgreSQL beside SQLite: audit-event ingest per second
// (agents' 100-event batches), the lease round trip (acquire + release), and — PostgreSQL
// only, two store instances as two replicas — the time from a lock's commit on one to the
// other's watch hub reading it after its NOTIFY wake-up.
import type { Store } from "../src/auth/store.ts";
import { parseResource } from "../src/core/resources.ts";
import { summarize, type Summary } from "./stats.ts";

const EVENTS = 20_000;
const BATCH = 100;
const LEASES = 2_000;
const LOCKS = 300;
const NODE = "11111111-1111-4111-8111-111111111111";

export interface BackendFigures {
  eventsPerSecond: number;
  leaseRoundTripMs: Summary;
}

export async function measureStore(store: Store): Promise<BackendFigures> {
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
export async function crossReplica(a: Store, b: Store): Promise<Summary> {
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
