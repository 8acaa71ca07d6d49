// A captured request token cannot be replayed inside its 60 s window, not even after
// the auth service restarts: used nonces are kept in the auth store.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { decodeOpenSshPrivateKey } from "../../src/core/openssh-private-key.ts";
import { parseAuthorizedKeyLine } from "../../src/core/ssh-key.ts";
import { ApiClient } from "../../src/platform/api-client.ts";
import { readIdentity } from "../../src/platform/identity-file.ts";
import { TestCluster } from "../helpers/cluster.ts";

let c: TestCluster;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
}, 30_000);

afterAll(() => c.close());

test("a token replayed after an auth restart within its window is refused", async () => {
  const id = readIdentity(c.identity);
  const cert = Buffer.from(parseAuthorizedKeyLine(id.cert!).blob).toString("base64");
  const api = new ApiClient(c.authAddr, id.caCertPem, { subject: { cert }, privateKey: decodeOpenSshPrivateKey(id.keyPem) });
  const path = "/v1/status";
  const captured = api.authorization("GET", path);
  const send = async () => {
    const res = await fetch(`https://${c.authAddr}${path}`, { headers: { authorization: captured }, tls: api.tls });
    return { status: res.status, body: (await res.json()) as { error?: string } };
  };
  expect((await send()).status).toBe(200);
  expect(await send()).toEqual({ status: 401, body: { error: "request token was already used" } });
  await c.stopAuth();
  await c.startAuth();
  expect(await send()).toEqual({ status: 401, body: { error: "request token was already used" } });
  // A fresh token from the same caller still works.
  expect((await api.request<{ you: { user: string } }>("GET", path)).you.user).toBe("admin");
}, 60_000);
