// Request bodies are limited while they stream: unauthenticated chunked uploads must
// not make the auth service hold them (issue: 8 × 100 MB PUTs took it from 87 to 770 MB).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { TestCluster } from "../helpers/cluster.ts";

let c: TestCluster;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
}, 30_000);

afterAll(() => c.close());

/** Resident set and its peak (VmHWM) of a process, in bytes. */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"))![1]) * 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

/** A chunked PUT of `total` bytes; resolves with the status, or 0 when the server cut the connection. */
function chunkedPut(path: string, total: number, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port: c.authPort, path, method: "PUT", rejectUnauthorized: false, headers: { "transfer-encoding": "chunked", ...headers } });
    let status = 0;
    req.on("response", (res) => {
      status = res.statusCode ?? 0;
      res.resume();
      res.on("end", () => resolve(status));
      req.destroy();
    });
    req.on("error", () => resolve(status));
    req.on("close", () => resolve(status));
    const chunk = Buffer.alloc(1 << 20, 0x41);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      req.end();
    };
    pump();
  });
}

test("8 parallel 100 MB unauthenticated chunked PUTs do not grow the auth service's memory", async () => {
  const pid = c.auth.proc.pid;
  const before = memory(pid);
  const sid = crypto.randomUUID();
  const statuses = await Promise.all(Array.from({ length: 8 }, (_, i) => chunkedPut(`/v1/recordings/${sid}/parts/${i + 1}`, 100 << 20)));
  const after = memory(pid);
  const grewMiB = (after.peak - before.peak) / (1 << 20);
  console.log(`auth RSS ${(before.rss / 2 ** 20).toFixed(0)} → ${(after.rss / 2 ** 20).toFixed(0)} MiB, peak ${(before.peak / 2 ** 20).toFixed(0)} → ${(after.peak / 2 ** 20).toFixed(0)} MiB`);
  // Refused (401) or cut; never accepted.
  for (const s of statuses) expect([0, 401, 413]).toContain(s);
  expect(grewMiB).toBeLessThan(48);
}, 120_000);

test("a forged token with a huge body gets 401 without the body being read", async () => {
  const pid = c.auth.proc.pid;
  const before = memory(pid);
  const forged = "HW1 " + Buffer.from(JSON.stringify({ v: 1, sub: { cert: "AAAA" }, iat: Date.now(), nonce: "x".repeat(32), m: "PUT", p: "/v1/resources", bh: "0" })).toString("base64url") + ".AAAA";
  const status = await chunkedPut("/v1/resources", 200 << 20, { authorization: forged });
  expect([0, 401]).toContain(status);
  expect((memory(pid).peak - before.peak) / (1 << 20)).toBeLessThan(48);
}, 60_000);

test("a public route (join) takes at most what a join needs: a 1 MB body is 413", async () => {
  const res = await fetch(`https://127.0.0.1:${c.authPort}/v1/join`, { method: "POST", body: "x".repeat(1 << 20), tls: { rejectUnauthorized: false } });
  expect(res.status).toBe(413);
  expect(((await res.json()) as { error: string }).error).toContain("request body over 65536 bytes");
});
