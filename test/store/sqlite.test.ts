// The store contract on SQLite: a fresh database file per test.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../src/auth/sqlite-store.ts";
import { storeSuite } from "./store-suite.ts";

const dir = mkdtempSync(join(tmpdir(), "hostward-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeSuite("sqlite", { fresh: async () => SqliteStore.open(join(dir, `${crypto.randomUUID()}.db`)) });

test("numbered migrations: applied once and recorded in user_version; a file from a newer hostward is refused", async () => {
  const { Database } = await import("bun:sqlite");
  const { SQLITE_MIGRATIONS } = await import("../../src/auth/sqlite-schema.ts");
  const path = join(dir, "migrations.db");
  await SqliteStore.open(path).close();
  await SqliteStore.open(path).close(); // the second open finds every migration applied
  const db = new Database(path);
  expect(db.query<{ user_version: number }, []>("PRAGMA user_version").get()!.user_version).toBe(Math.max(...SQLITE_MIGRATIONS.map((m) => m.version)));
  db.exec("PRAGMA user_version = 999");
  db.close();
  expect(() => SqliteStore.open(path)).toThrow("newer than this hostward knows");
});
