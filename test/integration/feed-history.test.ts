// The change feed's history identity: the auth database is restored to an older copy
// and makes as many (or fewer) new changes as it lost; agents that resume by revision
// must not keep the lost history's locks nor miss the new ones (issue 17.2).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/process.ts";

const NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "gina"];
let c: TestCluster;
let offline: Agent; // stopped across the restore, as in the issue
let online: Agent; // stays up and reconnects
const users = new Map<string, SshUser>();

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  const cfg = join(c.dir, "cluster.toml");
  writeFileSync(cfg, `kind = "cluster_config"\nsession_recording = "off"\n`);
  await c.ctlOk("create", "-f", cfg);
  await c.createRole("ops", `[allow]\nlogins = ["root"]`);
  for (const n of NAMES) users.set(n, await c.addUser(n, ["ops"]));
  offline = await c.addAgent();
  online = await c.addAgent();
  await c.writeKnownHosts();
}, 120_000);

afterAll(() => c.close());

const authDb = () => join(c.dir, "auth", "auth.db");

/** Copies auth.db (with its WAL) while the auth service is stopped. */
async function copyAuthDb(to: string): Promise<void> {
  await c.stopAuth();
  for (const ext of ["", "-wal", "-shm"]) if (existsSync(authDb() + ext)) copyFileSync(authDb() + ext, to + ext);
  await c.startAuth();
}

async function restoreAuthDb(from: string): Promise<void> {
  await c.stopAuth();
  for (const ext of ["", "-wal", "-shm"]) {
    rmSync(authDb() + ext, { force: true });
    if (existsSync(from + ext)) copyFileSync(from + ext, authDb() + ext);
  }
  await c.startAuth();
}

async function metric(agent: Agent, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${agent.diagPort}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : NaN;
}

async function authRevision(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${c.authDiagPort}/metrics`)).text();
  return Number(/^hostward_auth_revision (\d+)$/m.exec(text)![1]);
}

async function lockUsers(names: string[], message: string): Promise<void> {
  for (const n of names) await c.ctlOk("lock", "--user", n, "--message", `${message}-${n}`);
}

/** Which of NAMES the agent refuses, by logging in as each. */
async function refusedOn(agent: Agent): Promise<string[]> {
  const out: string[] = [];
  for (const n of NAMES) {
    const r = await c.ssh(agent, users.get(n)!, "root", ["echo in"]);
    if (r.stdout !== "in\n") out.push(n);
  }
  return out;
}

async function converged(agent: Agent): Promise<void> {
  const rev = await authRevision();
  await waitFor(async () => (await metric(agent, "hostward_agent_view_revision")) === rev, 15_000, `${agent.name} at revision ${rev}`);
}

test("a restored auth database with as many new changes as it lost: agents converge to its locks", async () => {
  await lockUsers(["alice"], "kept");
  const backup = join(c.dir, "auth-backup.db");
  await copyAuthDb(backup);
  await lockUsers(["carol", "dave", "frank"], "lost");
  await converged(offline);
  await converged(online);
  expect(await refusedOn(offline)).toEqual(["alice", "carol", "dave", "frank"]);

  await offline.stop();
  await restoreAuthDb(backup);
  await lockUsers(["bob", "gina", "erin"], "new"); // the same number of changes: the same revision
  await converged(online);
  await offline.start();
  await converged(offline);

  const expected = ["alice", "bob", "erin", "gina"];
  expect(await refusedOn(offline)).toEqual(expected);
  expect(await refusedOn(online)).toEqual(expected);
  const r = await c.ssh(offline, users.get("bob")!, "root", ["true"]);
  expect(r.stderr).toContain("new-bob");
  expect(offline.proc.output()).toContain("history differs from this view's at the same revision");
  expect(c.auth.output()).toContain("its history differs from ours at that revision");
}, 120_000);

test("a restored database with fewer changes: the older snapshot is applied, logged and counted", async () => {
  const backup = join(c.dir, "auth-backup-2.db");
  await copyAuthDb(backup);
  await lockUsers(["carol", "dave"], "lost-again");
  await converged(online);
  const before = await metric(online, "hostward_agent_feed_rewinds_total");
  await restoreAuthDb(backup);
  await converged(online);
  expect(await metric(online, "hostward_agent_feed_rewinds_total")).toBe(before + 1);
  expect(online.proc.output()).toContain("the auth service sent a snapshot older than this view");
  expect(await refusedOn(online)).toEqual(["alice", "bob", "erin", "gina"]);
}, 120_000);
