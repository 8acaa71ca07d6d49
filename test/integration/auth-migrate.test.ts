// `hostward auth migrate`: a SQLite cluster copied into PostgreSQL keeps working with its
// agents as they are (same CA pin, identities, certificates, locks), from a replica that
// has none of the old data dir; a target that holds a cluster is refused without --force.
import { afterAll, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestCluster } from "../helpers/cluster.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.ts";
import { CLI, httpOk, run, startProc, waitFor, type Proc } from "../helpers/process.ts";

let c: TestCluster | undefined;
let db: TestDatabase | undefined;
let replica: Proc | undefined;
afterAll(async () => {
  await replica?.stop("SIGKILL");
  await c?.close();
  await db?.drop();
});

test("a SQLite cluster moves to PostgreSQL: agents keep their pins and identities, nobody re-joins", async () => {
  c = new TestCluster();
  db = await createTestDatabase();
  await c.startAuth();
  const agent = await c.addAgent();
  await c.createRole("ops", `[allow]\nlogins = ["root"]`);
  const alice = await c.addUser("alice", ["ops"]);
  const bob = await c.addUser("bob", ["ops"]);
  await c.writeKnownHosts();
  expect((await c.ctl("lock", "--user", "bob", "--message", "moved with the data")).code).toBe(0);
  const before = JSON.parse(await c.ctlOk("status", "--format", "json"));
  await c.stopAuth();

  const sqlite = `sqlite://${join(c.dir, "auth", "auth.db")}`;
  const moved = await run([...CLI, "auth", "migrate", "--from", sqlite, "--to", db.url]);
  expect(moved.code).toBe(0);
  expect(moved.stdout).toContain("1 nodes");
  expect(moved.stdout).toContain("4 cluster_secrets");
  const again = await run([...CLI, "auth", "migrate", "--from", sqlite, "--to", db.url]);
  expect(again.code).not.toBe(0);
  expect(again.stderr).toContain("already holds a cluster; pass --force");

  // A replica on PostgreSQL with a new, empty data dir, where the agent expects its auth service.
  const dir = join(c.dir, "auth-pg");
  const cfg = join(c.dir, "auth-pg.toml");
  writeFileSync(cfg, `data_dir = "${dir}"\nlisten = "127.0.0.1:${c.authPort}"\ndiag_addr = "127.0.0.1:${c.authDiagPort}"\n[store]\nurl = "${db.url}"\n`);
  replica = startProc([...CLI, "auth", "start", "--config", cfg]);
  await waitFor(async () => existsSync(join(dir, "admin.identity")) && (await httpOk(`http://127.0.0.1:${c!.authDiagPort}/readyz`)), 30_000, "the PostgreSQL replica");
  const ctl = (...args: string[]) => run([...CLI, "ctl", "--identity", join(dir, "admin.identity"), ...args]);
  const after = JSON.parse((await ctl("status", "--format", "json")).stdout);
  expect(after.ca_pin).toBe(before.ca_pin);
  expect(after.revision).toBe(before.revision);
  const nodes = JSON.parse((await ctl("nodes", "ls", "--format", "json")).stdout) as { server_id: string; state: string }[];
  expect(nodes.map((n) => n.server_id)).toEqual([agent.serverId()]);
  // The old certificate still logs in; the lock still holds; the agent never joined again.
  expect((await c.ssh(agent, alice, "root", ["echo moved"])).stdout).toBe("moved\n");
  const refused = await c.ssh(agent, bob, "root", ["true"]);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain("moved with the data");
  expect(agent.proc.output()).not.toContain("joined");
});
