// Recordings in S3-compatible storage (a real s3rver process): node-mode uploads retry
// through an outage and complete when the server returns; a node-sync session is closed
// within sync_timeout when its recording cannot be made durable.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { openLiveSession } from "../helpers/live-session.ts";
import { waitFor } from "../helpers/process.ts";
import { outputOf, playEvents, recordingsOf, waitForRecordings } from "../helpers/recordings.ts";
import { S3Server, S3_ENV } from "../helpers/s3-server.ts";

let c: TestCluster;
let s3: S3Server;
let agent: Agent;
let alice: SshUser;

beforeAll(async () => {
  Object.assign(process.env, S3_ENV);
  s3 = new S3Server(mkdtempSync(join(tmpdir(), "hostward-s3-")));
  await s3.start();
  c = new TestCluster(`[recordings]\nstorage = "${s3.url()}"\n`);
  await c.startAuth();
  agent = await c.addAgent();
  await c.createRole("rec", `[allow]\nlogins = ["root"]`);
  alice = await c.addUser("alice", ["rec"]);
  await c.writeKnownHosts();
}, 60_000);

afterAll(async () => {
  await c.close();
  await s3.stop().catch(() => {});
  rmSync(s3.dir, { recursive: true, force: true });
});

describe("node mode", () => {
  test("a recording goes to S3 and plays back", async () => {
    const r = await c.ssh(agent, alice, "root", ["echo to-s3"]);
    expect(r.stdout).toBe("to-s3\n");
    const [rec] = await waitForRecordings(c, "alice", 1);
    expect(rec!.state).toBe("complete");
    expect(new TextDecoder().decode(outputOf(await playEvents(c, rec!.session_id)))).toBe("to-s3\n");
  });

  test("S3 down during the upload: the uploader retries, then completes when it returns", async () => {
    await s3.stop();
    const r = await c.ssh(agent, alice, "root", ["echo during-outage"]);
    expect(r.stdout).toBe("during-outage\n");
    await agent.proc.waitForOutput(/recording upload failed; will retry/, 20_000);
    const rows = await recordingsOf(c, "alice");
    expect(rows.filter((x) => x.state === "complete")).toHaveLength(1);
    await s3.start();
    const recs = await waitForRecordings(c, "alice", 2, 90_000);
    expect(recs[0]!.state).toBe("complete");
    expect(new TextDecoder().decode(outputOf(await playEvents(c, recs[0]!.session_id)))).toBe("during-outage\n");
  }, 120_000);
});

describe("node-sync mode", () => {
  // The default sync_timeout (30 s) for a session that must complete, however slow this
  // machine is; 3 s where the test waits for the cut.
  let syncAgent: Agent;
  let impatientAgent: Agent;

  beforeAll(async () => {
    const f = join(c.dir, "cluster.toml");
    writeFileSync(f, `kind = "cluster_config"\nsession_recording = "node-sync"\n`);
    await c.ctlOk("create", "-f", f);
    syncAgent = await c.addAgent();
    impatientAgent = await c.addAgent(`[recording]\nsync_timeout = "3s"`);
  }, 60_000);

  test("a session streams to S3 and nothing is spooled on the node", async () => {
    const r = await c.ssh(syncAgent, alice, "root", ["echo synced"]);
    expect(r.stdout).toBe("synced\n");
    const rec = (await waitForRecordings(c, "alice", 3))[0]!;
    expect(rec.state).toBe("complete");
    expect(new TextDecoder().decode(outputOf(await playEvents(c, rec.session_id)))).toBe("synced\n");
    expect(readdirSync(join(syncAgent.dir, "spool"))).toEqual([]);
  });

  test("S3 stopped mid-session: the session is closed within sync_timeout with the reason", async () => {
    const s = await openLiveSession(c.sshArgs(impatientAgent, alice, "root", ["-tt"]));
    await s3.stop();
    const t0 = Date.now();
    s.send("echo after-stop");
    await s.ended(15_000);
    const took = Date.now() - t0;
    expect(took).toBeLessThan(3_000 + 4_000);
    expect(s.proc.output()).toMatch(/closing this session: its recording is not durable within recording\.sync_timeout \(3s\)/);
    await s3.start();
    let rec: { state: string; session_id: string } | undefined;
    await waitFor(async () => {
      rec = (await recordingsOf(c, "alice"))[0];
      return rec !== undefined && rec.state !== "uploading";
    }, 60_000, "the cut session's recording to finish", 250);
    expect(rec!.state).toBe("interrupted");
    expect(new TextDecoder().decode(outputOf(await playEvents(c, rec!.session_id)))).toContain("READY-42");
  }, 90_000);
});
