// The store contract on SQLite: a fresh database file per test.
import { afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../src/auth/sqlite-store.ts";
import { storeSuite } from "./store-suite.ts";

const dir = mkdtempSync(join(tmpdir(), "hostward-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeSuite("sqlite", { fresh: async () => SqliteStore.open(join(dir, `${crypto.randomUUID()}.db`)) });
