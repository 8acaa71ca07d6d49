// The agent's and the auth service's SQLite files: 0600 (and their WAL files), a damaged
// agent.db header stops the agent with an error naming the file, and an emptied
// (truncated) one is started anew with a log line saying so (issue 10, Low).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, openSync, rmSync, statSync, truncateSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { TestCluster, type Agent } from "../helpers/cluster.ts";
import { CLI, run } from "../helpers/process.ts";

let c: TestCluster;
let agent: Agent;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  agent = await c.addAgent();
}, 60_000);

afterAll(() => c.close());

const mode = (f: string) => statSync(f).mode & 0o777;

test("auth.db, agent.db and their WAL files are 0600", () => {
  for (const db of [join(c.dir, "auth", "auth.db"), join(agent.dir, "agent.db")]) {
    for (const f of [db, `${db}-wal`, `${db}-shm`]) if (existsSync(f)) expect({ f, mode: mode(f).toString(8) }).toEqual({ f, mode: "600" });
  }
});

test("a damaged agent.db header: the agent exits with an error naming the file", async () => {
  await agent.stop();
  const db = join(agent.dir, "agent.db");
  const fd = openSync(db, "r+");
  writeSync(fd, Buffer.alloc(100, 0x41), 0, 100, 0); // "AAAA…" over the 100-byte SQLite header
  closeSync(fd);
  const r = await run([...CLI, "agent", "start", "--config", agent.configPath], { timeoutMs: 20_000 });
  expect(r.code).not.toBe(0);
  expect(r.stdout + r.stderr).toContain(`${db}: file is not a database`);
});

test("an emptied (truncated) agent.db is started anew, with a log line, and the view comes back from the auth service", async () => {
  const db = join(agent.dir, "agent.db");
  truncateSync(db, 0);
  for (const ext of ["-wal", "-shm"]) rmSync(db + ext, { force: true });
  await agent.start();
  expect(agent.proc.output()).toContain(`${db} was empty (truncated?): starting with an empty lock cache and audit outbox`);
  expect(mode(db).toString(8)).toBe("600");
});
