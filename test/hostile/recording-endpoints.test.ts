// Recording endpoints answer what happened: a person on a node-only endpoint is 403,
// a malformed session id 400, only a storage failure 503 (logged with its stack); a
// corrupt part that cannot be kept aside is logged and counted, not swallowed; a gzip
// bomb is refused before it is inflated.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { decodeOpenSshPrivateKey } from "../../src/core/openssh-private-key.ts";
import { parseAuthorizedKeyLine } from "../../src/core/ssh-key.ts";
import { sizeMember } from "../../src/recording/format/gzip-members.ts";
import { gzipMember } from "../../src/recording/format/part-codec.ts";
import { ApiClient, ApiError } from "../../src/platform/api-client.ts";
import { readIdentity } from "../../src/platform/identity-file.ts";
import { TestCluster, type Agent } from "../helpers/cluster.ts";
import { nodeApi } from "../helpers/node-api.ts";
import { waitFor } from "../helpers/process.ts";

let c: TestCluster;
let agent: Agent;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  agent = await c.addAgent();
}, 60_000);

afterAll(() => c.close());

async function status(api: ApiClient, method: string, path: string, body?: unknown, raw?: Uint8Array): Promise<{ status: number; error?: string }> {
  try {
    if (raw) {
      const res = await fetch(`https://${c.authAddr}${path}`, { method, body: raw, headers: { authorization: api.authorization(method, path, raw) }, tls: api.tls });
      return { status: res.status, error: ((await res.json()) as { error?: string }).error };
    }
    await api.request(method, path, body);
    return { status: 200 };
  } catch (e) {
    return { status: (e as ApiError).status, error: (e as Error).message };
  }
}

function adminApi(): ApiClient {
  const id = readIdentity(c.identity);
  return new ApiClient(c.authAddr, id.caCertPem, { subject: { cert: Buffer.from(parseAuthorizedKeyLine(id.cert!).blob).toString("base64") }, privateKey: decodeOpenSshPrivateKey(id.keyPem) });
}

const part = () => gzipMember(`{"event":"session.start","ms":0,"version":1,"sid":"x","time":"2026-01-01T00:00:00Z","server_id":"x","user":"u","login":"root","kind":"exec","mode":"node"}\n`);
const meta = { user: "u", login: "root", kind: "exec", mode: "node", started: new Date().toISOString() };

test("a person on node-only recording endpoints gets 403, not 503", async () => {
  const api = adminApi();
  const sid = randomUUID();
  expect(await status(api, "PUT", `/v1/recordings/${sid}`, meta)).toEqual({ status: 403, error: "this endpoint is for nodes" });
  expect(await status(api, "PUT", `/v1/recordings/${sid}/parts/1`, undefined, part())).toEqual({ status: 403, error: "this endpoint is for nodes" });
  expect(await status(api, "POST", `/v1/recordings/${sid}/complete`, { parts: 0 })).toEqual({ status: 403, error: "this endpoint is for nodes" });
  expect(await status(api, "POST", `/v1/recordings/${sid}/corrupt`, { reason: "x" })).toEqual({ status: 403, error: "this endpoint is for nodes" });
});

test("a malformed session id is 400 on every node endpoint", async () => {
  const api = nodeApi(agent, c.authAddr);
  for (const [method, path, body, raw] of [
    ["PUT", "/v1/recordings/not-a-uuid", meta], ["PUT", "/v1/recordings/not-a-uuid/parts/1", undefined, part()],
    ["POST", "/v1/recordings/not-a-uuid/complete", { parts: 1 }], ["POST", "/v1/recordings/not-a-uuid/corrupt", { reason: "x" }],
  ] as [string, string, unknown, Uint8Array | undefined][]) {
    const r = await status(api, method, path, body, raw);
    expect(r.status).toBe(400);
    expect(r.error).toContain("not-a-uuid");
  }
});

test("a staging object no upload refers to is found at start, logged, counted and removed", async () => {
  await c.stopAuth();
  const stray = join(c.dir, "auth", "recordings", "staging", randomUUID(), "000001.gz");
  mkdirSync(dirname(stray), { recursive: true });
  writeFileSync(stray, part());
  await c.startAuth();
  await waitFor(() => !existsSync(stray), 10_000, "the stray staging object to be removed");
  expect(c.auth.output()).toContain('"removed a staging object no upload refers to"');
  const metrics = await (await fetch(`http://127.0.0.1:${c.authDiagPort}/metrics`)).text();
  expect(metrics).toContain('hostward_auth_recording_problems_total{problem="staging_object_removed"} 1');
}, 60_000);

test("a gzip bomb of a part (512 MiB of zeros in 0.5 MB) is refused with 422 before the auth service inflates it", async () => {
  const api = nodeApi(agent, c.authAddr);
  const sid = randomUUID();
  expect((await status(api, "PUT", `/v1/recordings/${sid}`, meta)).status).toBe(200);
  const bomb = sizeMember(Bun.gzipSync(new Uint8Array(512 << 20), { level: 9 }));
  const rss = () => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${c.auth.proc.pid}/status`, "utf8"))![1]) / 1024;
  const before = rss();
  const r = await status(api, "PUT", `/v1/recordings/${sid}/parts/1`, undefined, bomb);
  expect(r.status).toBe(422);
  expect(r.error).toContain("inflates to more than 128 MiB");
  expect(rss() - before).toBeLessThan(64); // MiB: the 512 MiB were never allocated
  expect((await status(api, "GET", "/v1/status")).status).toBe(200);
});

test("a storage failure is 503 with a logged stack; a corrupt part that cannot be kept aside is logged and counted", async () => {
  const api = nodeApi(agent, c.authAddr);
  const [good, bad] = [randomUUID(), randomUUID()];
  expect((await status(api, "PUT", `/v1/recordings/${good}`, meta)).status).toBe(200);
  expect((await status(api, "PUT", `/v1/recordings/${bad}`, meta)).status).toBe(200);
  // The storage directory becomes a file: every write fails.
  const dir = join(c.dir, "auth", "recordings");
  rmSync(dir, { recursive: true, force: true });
  writeFileSync(dir, "not a directory");
  const r = await status(api, "PUT", `/v1/recordings/${good}/parts/1`, undefined, part());
  expect(r.status).toBe(503);
  expect(r.error).toStartWith("recording storage is unavailable: createUpload: ENOTDIR");
  const logged = c.auth.output().split("\n").find((l) => l.includes('"recording storage failed"'))!;
  expect(JSON.parse(logged).error_stack).toContain("caused by");
  // A corrupt part: answered (not 2xx), and the lost evidence is logged and counted.
  const corrupt = await status(api, "PUT", `/v1/recordings/${bad}/parts/1`, undefined, new TextEncoder().encode("definitely not gzip"));
  expect(corrupt.status).toBeGreaterThanOrEqual(400);
  expect(c.auth.output()).toContain('"could not keep the corrupt part aside"');
  let metrics = "";
  await waitFor(async () => (metrics = await (await fetch(`http://127.0.0.1:${c.authDiagPort}/metrics`)).text()).includes("corrupt_part_not_kept"), 5000, "the counter");
  expect(metrics).toContain('hostward_auth_recording_problems_total{problem="corrupt_part_not_kept"} 1');
});
