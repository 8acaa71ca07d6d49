// Bad input around recordings: corrupt parts (on the node's disk and as sent to the
// auth service) are marked corrupt, kept aside, reported and block nothing else; session
// ids with path characters are refused before any file or key is touched; deleting a
// recording is for admins only and audited.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeOpenSshPrivateKey } from "../../src/core/openssh-private-key.ts";
import { clientFor, selectIdentity } from "../../src/platform/identity-selection.ts";
import { ApiClient, ApiError } from "../../src/platform/api-client.ts";
import { readIdentity, writeIdentity } from "../../src/platform/identity-file.ts";
import { gzipMember } from "../../src/recording/format/part-codec.ts";
import { RecordingClient } from "../../src/agent/recording/recording-client.ts";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { CLI, run, waitFor } from "../helpers/process.ts";
import { play, recordingsOf, waitForRecordings } from "../helpers/recordings.ts";

let c: TestCluster;
let agent: Agent;
let alice: SshUser;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  agent = await c.addAgent();
  await c.createRole("rec", `[allow]\nlogins = ["root"]`);
  await c.createRole("audit-rec", `[[allow.rules]]\nresources = ["recording", "session", "event"]\nverbs = ["list", "read"]`);
  alice = await c.addUser("alice", ["rec"]);
  await c.writeKnownHosts();
}, 60_000);

afterAll(() => c.close());

/** An API client that speaks as the agent's node identity. */
function nodeClient(a: Agent): RecordingClient {
  const id = readIdentity(join(a.dir, "identity"));
  return new RecordingClient(new ApiClient(id.authServer, id.caCertPem, { subject: { node: a.serverId() }, privateKey: decodeOpenSshPrivateKey(id.keyPem) }));
}

const META = { user: "alice", login: "root", kind: "exec", mode: "node", started: new Date().toISOString() };

test("a corrupt spooled part: moved aside, reported as corrupt, other uploads go on", async () => {
  await agent.stop();
  const sid = crypto.randomUUID();
  const dir = join(agent.dir, "spool", sid);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "meta.json"), JSON.stringify({ sid, server_id: agent.serverId(), ...META, state: "ended" }));
  writeFileSync(join(dir, "part-000001.gz"), "this is not gzip");
  await agent.start();
  const r = await c.ssh(agent, alice, "root", ["echo still-fine"]);
  expect(r.stdout).toBe("still-fine\n");
  await waitFor(async () => (await recordingsOf(c, "alice")).some((x) => x.session_id !== sid && x.state === "complete"), 30_000, "the good session uploaded", 200);
  await waitFor(async () => (await recordingsOf(c, "alice")).some((x) => x.session_id === sid && x.state === "corrupt"), 30_000, "the bad session reported", 200);
  expect(readdirSync(join(agent.dir, "spool-corrupt")).some((d) => d.startsWith(sid))).toBe(true);
  expect(existsSync(dir)).toBe(false);
  const bad = (await recordingsOf(c, "alice")).find((x) => x.session_id === sid)!;
  expect(bad.reason).toMatch(/part 1: not valid gzip/);
});

test("a part that fails the auth service's gzip or JSON check: 422, recording marked corrupt, the part kept aside", async () => {
  const api = nodeClient(agent);
  const good = crypto.randomUUID();
  const badGzip = crypto.randomUUID();
  const badJson = crypto.randomUUID();
  for (const sid of [good, badGzip, badJson]) await api.open(sid, META);
  const start = gzipMember(`{"event":"session.start","ms":0}\n`);
  await api.putPart(good, 1, start);
  await expect(api.putPart(badGzip, 1, new TextEncoder().encode("garbage"))).rejects.toThrow(/part 1 is corrupt: not valid gzip/);
  await expect(api.putPart(badJson, 1, gzipMember(`{"event":"print","ms":1,"data":"x"}\nnot json\n`))).rejects.toThrow(/part 1 is corrupt: line 2: not valid JSON/);
  await expect(api.putPart(badJson, 2, start)).rejects.toMatchObject({ status: 422 });
  await api.putPart(good, 2, gzipMember(`{"event":"session.end","ms":5}\n`));
  expect((await api.complete(good, { parts: 2, interrupted: false })).state).toBe("complete");
  const rows = await recordingsOf(c, "alice");
  expect(rows.find((x) => x.session_id === badGzip)!.state).toBe("corrupt");
  expect(rows.find((x) => x.session_id === badJson)!.state).toBe("corrupt");
  expect(rows.find((x) => x.session_id === good)!.state).toBe("complete");
  expect(existsSync(join(c.dir, "auth", "recordings", "corrupt", badJson, "000001.gz"))).toBe(true);
  const events = JSON.parse(await c.ctlOk("events", "ls", "--type", "recording.corrupt", "--format", "json"));
  expect(events.map((e: { sid: string }) => e.sid)).toEqual(expect.arrayContaining([badGzip, badJson]));
});

test("session ids with path characters are refused before touching anything", async () => {
  for (const bad of ["../../etc/passwd", "a/b", "..", "0b7d9c52-3f5e-4c1a-9a57-2d8e6f3b1c90/../x"]) {
    const r = await c.ctl("recordings", "download", bad, "--out", join(c.dir, "x.gz"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("is not a session id");
    // play also takes local files; these name none.
    if (existsSync(bad) && bad !== "..") continue;
    const p = await play(c, bad, "--format", "json");
    expect(p.code).toBe(2);
    expect(p.stderr).toContain("is not a session id");
  }
  expect(existsSync(join(c.dir, "x.gz"))).toBe(false);
  const admin = clientFor(selectIdentity(c.identity, {}));
  const err = await admin.request("GET", `/v1/recordings/${encodeURIComponent("../../etc/passwd")}/download`).catch((e) => e);
  expect(err).toBeInstanceOf(ApiError);
  expect((err as ApiError).status).toBe(400);
  expect((err as ApiError).message).toContain("is not a session id");
  const nodeErr = await nodeClient(agent).putPart("../escape" as string, 1, gzipMember("{}\n")).catch((e) => e);
  expect((nodeErr as ApiError).status).toBe(404);
});

test("recordings rm: auditors may list and download but not delete; an admin's delete is audited", async () => {
  const [rec] = await waitForRecordings(c, "alice", 1);
  const sid = rec!.session_id;
  const auditor = await c.addUser("auditor1", ["audit-rec"]);
  const idFile = join(c.dir, "auditor.identity");
  const adminId = readIdentity(c.identity);
  writeIdentity(idFile, { ...adminId, keyPem: readFileSync(auditor.key, "utf8"), cert: readFileSync(auditor.cert, "utf8").trim() });
  const ls = await run([...CLI, "ctl", "--identity", idFile, "recordings", "ls", "--format", "json"]);
  expect(ls.code).toBe(0);
  const dl = await run([...CLI, "ctl", "--identity", idFile, "recordings", "download", sid, "--out", join(c.dir, "a.gz")]);
  expect(dl.code).toBe(0);
  const rm = await run([...CLI, "ctl", "--identity", idFile, "recordings", "rm", sid]);
  expect(rm.code).toBe(1);
  expect(rm.stderr).toContain('access denied to perform action "delete" on "recording"');
  expect(await c.ctlOk("recordings", "rm", sid)).toContain("deleted");
  expect((await recordingsOf(c, "alice")).some((x) => x.session_id === sid)).toBe(false);
  const events = JSON.parse(await c.ctlOk("events", "ls", "--type", "recording.delete", "--format", "json"));
  expect(events[0]).toMatchObject({ sid, user: "admin" });
});
