// The store contract on PostgreSQL: one database for this run (dropped after), emptied
// before each test; three store instances on it act as three replicas.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SQL } from "bun";
import { PostgresStore } from "../../src/auth/postgres-store.ts";
import { migrate, MIGRATIONS } from "../../src/auth/postgres-schema.ts";
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
