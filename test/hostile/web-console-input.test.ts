// Hostile input on the web console's listener: made-up sign-in tokens, garbage cookies,
// cross-origin and token-less writes, bad paths and bodies. Every answer is a refusal
// with its reason, never a 500, and nothing changes.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { TestCluster } from "../helpers/cluster.ts";
import { CLI, freePort, run } from "../helpers/process.ts";

let c: TestCluster;
let web = "";
let cookie = "";
let csrf = "";
const tls = { rejectUnauthorized: false };

beforeAll(async () => {
  const port = await freePort();
  web = `https://127.0.0.1:${port}`;
  c = new TestCluster(`[web]\nlisten = "127.0.0.1:${port}"\n`);
  await c.startAuth();
  const r = await run([...CLI, "web", "--no-browser", "--identity", c.identity]);
  const link = /https:\/\/\S+/.exec(r.stdout)![0];
  const res = await fetch(link, { redirect: "manual", tls });
  expect(res.status).toBe(303);
  cookie = res.headers.get("set-cookie")!.split(";")[0]!;
  csrf = ((await (await fetch(`${web}/web/me`, { headers: { cookie }, tls })).json()) as { csrf: string }).csrf;
}, 60_000);

afterAll(() => c.close());

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${web}${path}`, { headers, tls, redirect: "manual" });
const write = (path: string, body: string, headers: Record<string, string>) => fetch(`${web}${path}`, { method: "PUT", body, headers, tls });

test("made-up, long and odd sign-in tokens get the 'not valid' page", async () => {
  for (const token of ["x", "A".repeat(10_000), "%00", "..%2F..%2Fetc%2Fpasswd", "%E0%A4%A", "<script>alert(1)</script>"]) {
    const res = await get(`/signin/${token}`);
    expect(res.status).toBe(401);
    const text = await res.text();
    expect(text).toContain("not valid");
    expect(text).not.toContain("<script>");
    expect(res.headers.get("set-cookie")).toBeNull();
  }
});

test("garbage cookies are 'not signed in', never an error", async () => {
  for (const bad of ["__Host-hostward_session=", "__Host-hostward_session=" + "z".repeat(4000), "__Host-hostward_session=\"quoted\"", "a=b; c", ";;;=;"]) {
    const res = await get("/api/v1/nodes", { cookie: bad });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { signed_out: boolean }).signed_out).toBe(true);
  }
});

test("writes without the CSRF token, without an Origin, or from another origin are refused", async () => {
  const lock = JSON.stringify({ kind: "lock", target: { user: "victim" } });
  const cases: Record<string, string>[] = [
    { cookie, origin: web, "content-type": "application/json" },
    { cookie, "x-csrf-token": csrf, "content-type": "application/json" },
    { cookie, origin: "null", "x-csrf-token": csrf },
    { cookie, origin: "https://127.0.0.1.evil.example", "x-csrf-token": csrf },
    { cookie, origin: web, "x-csrf-token": csrf.slice(0, -1) },
    { cookie, origin: web, "x-csrf-token": csrf + "x" },
  ];
  for (const headers of cases) expect((await write("/api/v1/resources", lock, headers)).status).toBe(403);
  expect(await c.ctlOk("get", "locks")).not.toContain("victim");
});

test("bad bodies and paths through the console get the API's own answers", async () => {
  const ok = { cookie, origin: web, "x-csrf-token": csrf, "content-type": "application/json" };
  expect((await write("/api/v1/resources", "{not json", ok)).status).toBe(400);
  expect((await write("/api/v1/resources", "x".repeat(2 << 20), ok)).status).toBe(413);
  expect((await get("/api/v1/resources/lock/%zz", { cookie })).status).toBe(400);
  expect((await get("/api/v1/no-such-thing", { cookie })).status).toBe(404);
  expect((await get("/api/v1/recordings/not-a-uuid/events", { cookie })).status).toBe(400);
  expect((await get("/api/../../etc/passwd", { cookie })).status).toBe(404);
  expect((await get("/nothing-here", { cookie })).status).toBe(404);
});
