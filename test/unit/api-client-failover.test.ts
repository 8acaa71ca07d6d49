// The API client's replica list: when a replica dies, every request in flight fails
// at once; each must land on the next replica, and the client must stay there rather
// than be walked back onto the dead one by the others' failures.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateTls } from "../../src/auth/tls-ca.ts";
import { ApiClient } from "../../src/platform/api-client.ts";

const dir = mkdtempSync(join(tmpdir(), "hostward-failover-"));
const tls = await loadOrCreateTls(dir, []);
const live = Bun.serve({ hostname: "127.0.0.1", port: 0, tls: { cert: tls.serverCertPem, key: tls.serverKeyPem }, fetch: () => Response.json({ ok: true }) });
afterAll(() => {
  live.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

/** A loopback address nothing listens on (a replica that died). */
async function deadAddr(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return `127.0.0.1:${port}`;
}

test("requests failing together on a dead replica all go to the next one, and the client stays there", async () => {
  const [dead, next] = [await deadAddr(), `127.0.0.1:${live.port}`];
  const client = new ApiClient([dead, next], tls.caCertPem);
  const answers = await Promise.allSettled(Array.from({ length: 8 }, () => client.request("GET", "/v1/status")));
  expect(answers.map((a) => a.status)).toEqual(Array(8).fill("fulfilled"));
  expect(client.authServer).toBe(next);
  // A late failure report about the dead replica (a feed closing) does not move it back.
  client.failover(dead);
  expect(client.authServer).toBe(next);
  client.failover(next);
  expect(client.authServer).toBe(dead);
});
