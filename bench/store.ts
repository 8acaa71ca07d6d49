// `bun run bench store`: the console's session list against a large inventory, on
// SQLite and PostgreSQL: 100,000 sessions over 50 nodes and 200 users (2% still active),
// then each kind of page the Sessions view asks for, 20 times. Writes bench/results/store.json.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PostgresStore } from "../src/auth/postgres-store.ts";
import type { SessionQuery } from "../src/auth/session-inventory.ts";
import { SqliteStore } from "../src/auth/sqlite-store.ts";
import type { Store } from "../src/auth/store.ts";
import { withBenchDatabase } from "./bench-database.ts";
import { forEachBounded } from "./bounded-pool.ts";
import { machineInfo } from "./machine-info.ts";
import { summarize, type Summary } from "./stats.ts";
import { formatTable } from "./text-table.ts";

const ROOT = join(import.meta.dir, "..");
const SESSIONS = 100_000;
const NODES = 50;
const USERS = 200;
const QUERIES = 20;
const PAGE = 50;
const FILL_BUDGET_MS = 600_000;

type Page = { name: string; query: (deep: SessionQuery["after"]) => SessionQuery };
const PAGES: Page[] = [
  { name: "first page, unfiltered", query: () => ({ limit: PAGE }) },
  { name: "page at row 50,000, unfiltered (keyset)", query: (deep) => ({ limit: PAGE, after: deep }) },
  { name: "by user", query: () => ({ limit: PAGE, user: "user-7" }) },
  { name: "state = active", query: () => ({ limit: PAGE, states: ["active"] }) },
  { name: "by node", query: () => ({ limit: PAGE, node: nodeId(3) }) },
];

export async function run(): Promise<object> {
  const dir = mkdtempSync(join(tmpdir(), "hostward-bench-store-"));
  try {
    return await withBenchDatabase(async (url) => {
      const sqlite = SqliteStore.open(join(dir, "auth.db"));
      const sqliteFigures = await measure(sqlite);
      await sqlite.close();
      const pg = await PostgresStore.open(url);
      const pgFigures = await measure(pg);
      await pg.close();
      const result = {
        machine: await machineInfo(ROOT),
        load: "this machine's other work runs beside the benchmark (shared 2-core machine)",
        sessions: SESSIONS, pageSize: PAGE, queriesEach: QUERIES,
        sqlite: sqliteFigures, postgres: pgFigures,
      };
      const ms = (s: Summary) => `${s.mean.toFixed(2)} / ${s.p99.toFixed(2)}`;
      console.log(formatTable(["session page (50 rows) of 100,000, ms mean / p99", "SQLite", "PostgreSQL"],
        PAGES.map((p) => [p.name, ms(sqliteFigures.pages[p.name]!), ms(pgFigures.pages[p.name]!)])));
      writeFileSync(join(ROOT, "bench/results/store.json"), JSON.stringify(result, null, 2) + "\n");
      return result;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(store: Store): Promise<{ fillSeconds: number; pages: Record<string, Summary> }> {
  const t0 = performance.now();
  const start0 = Date.now() - SESSIONS * 1000;
  // Sessions arrive as agents report them: many nodes at once, one call each.
  await forEachBounded(Array.from({ length: SESSIONS }, (_, i) => i), 16, t0 + FILL_BUDGET_MS, async (i) => {
    const s = { id: `s-${i}`, node: nodeId(i % NODES), user: `user-${i % USERS}`, login: "root", kind: "shell", start: new Date(start0 + i * 1000) };
    await store.sessions.started(s);
    if (i % 50 !== 0) await store.sessions.ended({ ...s, end: new Date(s.start.getTime() + 500) });
  });
  const fillSeconds = (performance.now() - t0) / 1000;
  // The keyset position of row 50,000: page there once, the way the console does.
  let deep: SessionQuery["after"];
  for (let rows = 0; rows < SESSIONS / 2; rows += 1000) {
    const page = await store.sessions.list({ limit: 1000, after: deep });
    const last = page.at(-1)!;
    deep = { start: last.start, id: last.id };
  }
  const pages: Record<string, Summary> = {};
  for (const p of PAGES) {
    const times: number[] = [];
    for (let i = 0; i < QUERIES; i++) {
      const s = performance.now();
      const rows = await store.sessions.list(p.query(deep));
      times.push(performance.now() - s);
      if (rows.length === 0) throw new Error(`${p.name}: no rows`);
    }
    pages[p.name] = summarize(times);
  }
  return { fillSeconds, pages };
}

function nodeId(i: number): string {
  return `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
}
