// The API enforces every restriction of a person's certificate that SSH enforces:
// source-address first, then force-command, unknown critical options, validity, type, CA.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeOpenSshPrivateKey } from "../../src/core/openssh-private-key.ts";
import { parseAuthorizedKeyLine } from "../../src/core/ssh-key.ts";
import { ApiClient, ApiError } from "../../src/platform/api-client.ts";
import { readIdentity } from "../../src/platform/identity-file.ts";
import { TestCluster, type SshUser } from "../helpers/cluster.ts";
import { run } from "../helpers/process.ts";

let c: TestCluster;
let bob: SshUser;
let caCertPem: string;
let n = 0;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  caCertPem = readIdentity(c.identity).caCertPem;
  bob = await c.addUser("bob", ["auditor"]);
}, 30_000);

afterAll(() => c.close());

/** Signs bob's key with `ca` and the given ssh-keygen options; returns the certificate line. */
async function sign(opts: string[], ca = join(c.dir, "auth", "ssh", "user_ca")): Promise<string> {
  const out = join(c.dir, `bob-variant-${++n}`);
  await run(["cp", `${bob.key}.pub`, `${out}.pub`]);
  const r = await run(["ssh-keygen", "-q", "-s", ca, "-I", "bob", "-n", "root", ...opts, `${out}.pub`]);
  if (r.code !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
  return readFileSync(`${out}-cert.pub`, "utf8");
}

/** GET /v1/events as bob with this certificate: the status, and the error text when refused. */
async function eventsWith(certLine: string): Promise<{ status: number; error?: string }> {
  const cert = Buffer.from(parseAuthorizedKeyLine(certLine).blob).toString("base64");
  const api = new ApiClient(c.authAddr, caCertPem, { subject: { cert }, privateKey: decodeOpenSshPrivateKey(readFileSync(bob.key, "utf8")) });
  try {
    await api.request("GET", "/v1/events?limit=1");
    return { status: 200 };
  } catch (e) {
    return { status: (e as ApiError).status, error: (e as Error).message };
  }
}

test("source-address: a certificate limited to 10.9.9.9/32 gets 403 from 127.0.0.1; one allowing it gets 200", async () => {
  expect(await eventsWith(await sign(["-O", "source-address=10.9.9.9/32"]))).toEqual({ status: 403, error: "source address 127.0.0.1 not allowed by certificate" });
  expect((await eventsWith(await sign(["-O", "source-address=10.0.0.0/8,127.0.0.1/32"]))).status).toBe(200);
  expect((await eventsWith(await sign([]))).status).toBe(200);
});

test("force-command: a certificate limited to one command cannot use the API", async () => {
  const r = await eventsWith(await sign(["-O", "force-command=/bin/true"]));
  expect(r.status).toBe(403);
  expect(r.error).toContain("force-command");
});

test("unknown critical option, validity window, host type and a foreign CA are refused", async () => {
  const unknown = await eventsWith(await sign(["-O", "critical:no-such-option@example.com=x"]));
  expect(unknown).toEqual({ status: 401, error: 'unknown critical option "no-such-option@example.com"' });
  const expired = await eventsWith(await sign(["-V", "20200101:20200102"]));
  expect(expired.status).toBe(401);
  expect(expired.error).toStartWith("certificate expired");
  const future = await eventsWith(await sign(["-V", "+1d:+2d"]));
  expect(future.status).toBe(401);
  expect(future.error).toStartWith("certificate not yet valid");
  const host = await eventsWith(await sign(["-h"]));
  expect(host).toEqual({ status: 401, error: "not a user certificate" });
  const foreign = join(c.dir, "foreign_ca");
  await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", foreign]);
  expect(await eventsWith(await sign([], foreign))).toEqual({ status: 401, error: "certificate not signed by a trusted CA" });
});
