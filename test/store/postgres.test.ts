// The store contract on PostgreSQL: one database for this run (dropped after), emptied
// before each test; three store instances on it act as three replicas.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SQL } from "bun";
import { PostgresStore } from "../../src/auth/postgres-store.ts";
import { migrate, MIGRATIONS } from "../../src/auth/postgres-schema.ts";
import { parseResource } from "../../src/core/resources.ts";
import type { Lock } from "../../src/core/resource-types.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.ts";
import { storeSuite } from "./store-suite.ts";

let db: TestDatabase;
beforeAll(async () => (db = await createTestDatabase()));
afterAll(async () => await db?.drop());

storeSuite("postgres", {
  fresh: async () => {
    await db.reset();
    return PostgresStore.open(db.url, { poolSize: 4 });
  },
  peer: () => PostgresStore.open(db.url, { poolSize: 4 }),
});

test("replicas starting together apply each migration once, under the advisory lock", async () => {
  await db.reset();
  const pools = Array.from({ length: 4 }, () => new SQL(db.url, { max: 1 }));
  try {
    const applied = await Promise.all(pools.map((p) => migrate(p)));
    expect(applied.flat()).toEqual(MIGRATIONS.map((m) => m.version));
    const [{ n }] = await pools[0]!`SELECT count(*)::int AS n FROM schema_migrations`;
    expect(n).toBe(MIGRATIONS.length);
  } finally {
    for (const p of pools) await p.close();
  }
});

test("a replica frozen mid-transaction (or whose machine vanished) holds the feed head only until PostgreSQL ends its idle transaction", async () => {
  await db.reset();
  const [frozen, live] = [await PostgresStore.open(db.url, { poolSize: 2, idleInTransactionMs: 1_000 }), await PostgresStore.open(db.url, { poolSize: 2 })];
  const lock = () => ({ ...(parseResource({ kind: "lock", name: crypto.randomUUID(), target: { user: "alice" } }, "test", { now: new Date() }) as Lock), createdBy: "test", createdAt: new Date() });
  try {
    let inside!: () => void;
    const appended = new Promise<void>((r) => (inside = r));
    // Appends to the feed (locking its head), then stops answering, like a SIGSTOPped process.
    const stuck = frozen.atomically(async (tx) => {
      await tx.putResource(lock());
      inside();
      await new Promise(() => {});
    });
    const ended = stuck.then(() => "committed", (e: Error) => e.message);
    await appended;
    const mine = lock();
    const t0 = Date.now();
    expect(await live.putResource(mine)).toBe(1); // the frozen append never committed
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await ended).toContain("idle-in-transaction timeout");
    expect((await live.listResources("lock")).map((l) => l.name)).toEqual([mine.name]);
  } finally {
    await live.close();
    await frozen.close();
  }
});
