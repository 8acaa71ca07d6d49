// The web console end to end in a real browser (Debian's Chromium via playwright-core)
// against a real auth service and agent: sign-in links, cookie flags, CSRF, live
// sessions cut by a lock from the page, the recording player, and what each role sees.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { launchBrowser, type TestBrowser } from "../helpers/browser.ts";
import { openLiveSession } from "../helpers/live-session.ts";
import { CLI, ROOT, freePort, run, waitFor } from "../helpers/process.ts";
import { recordingsOf, type RecordingRow } from "../helpers/recordings.ts";

let c: TestCluster;
let agent: Agent;
let webUrl = "";
let browser: TestBrowser;
let dave: SshUser;
const SHOTS = join(ROOT, "docs", "screenshots");
// Functions given to page.evaluate run in the browser, where these exist.
declare const window: any;
declare const document: any;

beforeAll(async () => {
  const webPort = await freePort();
  webUrl = `https://127.0.0.1:${webPort}`;
  c = new TestCluster(`[web]\nlisten = "127.0.0.1:${webPort}"\n`);
  await c.startAuth();
  agent = await c.addAgent("", `[ssh.labels]\nenv = "staging"`);
  await c.createRole("ops", `[allow]\nlogins = ["root"]`);
  dave = await c.addUser("dave", ["ops"]);
  await c.writeKnownHosts();
  browser = await launchBrowser();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await c.close();
});

/** An identity file for a person (their key and certificate), as `hostward login` would make. */
function identityOf(user: SshUser): string {
  const admin = Bun.TOML.parse(readFileSync(c.identity, "utf8")) as Record<string, string>;
  const path = join(c.dir, `${user.name}.identity`);
  const q = (s: string) => JSON.stringify(s);
  writeFileSync(path, `auth_server = ${q(admin.auth_server!)}\nca_pin = ${q(admin.ca_pin!)}\nca_cert = ${q(admin.ca_cert!)}\nkey = ${q(readFileSync(user.key, "utf8"))}\ncert = ${q(readFileSync(user.cert, "utf8").trim())}\n`, { mode: 0o600 });
  return path;
}

async function signinLink(identity = c.identity): Promise<string> {
  const r = await run([...CLI, "web", "--no-browser", "--identity", identity]);
  expect(r.code).toBe(0);
  return /https:\/\/\S+/.exec(r.stdout)![0];
}

async function signedInPage(identity = c.identity): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(await signinLink(identity));
  await page.waitForSelector("[data-testid=who]", { timeout: 15_000 });
  return page;
}

/** README screenshots, refreshed with HOSTWARD_SCREENSHOTS=1 (other runs leave the checkout alone). */
async function shot(page: Page, name: string): Promise<void> {
  if (process.env.HOSTWARD_SCREENSHOTS === "1") await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

describe("signing in", () => {
  test("hostward web prints a link and opens it with $BROWSER; the link signs the person in once", async () => {
    const opened = join(c.dir, "opened-url");
    const fakeBrowser = join(c.dir, "fake-browser");
    writeFileSync(fakeBrowser, `#!/bin/sh\necho "$1" > ${opened}\n`);
    chmodSync(fakeBrowser, 0o755);
    const r = await run([...CLI, "web", "--identity", c.identity], { env: { BROWSER: fakeBrowser } });
    expect(r.code).toBe(0);
    const link = /https:\/\/\S+/.exec(r.stdout)![0];
    expect(link.startsWith(`${webUrl}/signin/`)).toBe(true);
    await waitFor(() => { try { return readFileSync(opened, "utf8").trim() === link; } catch { return false; } }, 10_000, "$BROWSER to be run with the link");

    const page = await browser.context.newPage();
    await page.goto(link);
    expect(await page.textContent("[data-testid=who]", { timeout: 15_000 })).toContain("admin");
    // The same link again: refused, and no new session comes of it.
    const again = await page.goto(link);
    expect(again!.status()).toBe(401);
    expect(await page.textContent("#message")).toContain("not valid: it was already used");
    await page.close();
  });

  test("the cookie is HttpOnly, Secure, SameSite=Strict and ends no later than the certificate", async () => {
    const page = await signedInPage();
    const cookie = (await browser.context.cookies(webUrl)).find((k) => k.name === "__Host-hostward_session")!;
    expect(cookie).toBeDefined();
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.secure).toBe(true);
    expect(cookie.sameSite).toBe("Strict");
    const me = await page.evaluate(async () => (await fetch("/web/me")).json() as any);
    expect(cookie.expires * 1000).toBeLessThanOrEqual(new Date(me.expires).getTime() + 1000);
    expect(await page.evaluate(() => document.cookie)).not.toContain("hostward_session"); // HttpOnly: scripts cannot read it
    await page.close();
  });

  test("sign-out ends the session on the server: the old cookie no longer works", async () => {
    const page = await signedInPage();
    const cookie = (await browser.context.cookies(webUrl)).find((k) => k.name === "__Host-hostward_session")!;
    await page.click("text=Sign out");
    await page.waitForSelector("[data-testid=signed-out]", { timeout: 10_000 });
    const res = await fetch(`${webUrl}/api/v1/nodes`, { headers: { cookie: `${cookie.name}=${cookie.value}` }, tls: { rejectUnauthorized: false } });
    expect(res.status).toBe(401);
    await page.close();
  });

  test("CSRF: a state change without the token, or from another origin, is refused", async () => {
    const page = await signedInPage();
    const noToken = await page.evaluate(async () => (await fetch("/api/v1/resources", {
      method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ kind: "lock", target: { user: "csrf-victim" } }),
    })).status);
    expect(noToken).toBe(403);
    const csrf = (await page.evaluate(async () => (await fetch("/web/me")).json() as any)).csrf as string;
    const cookie = (await browser.context.cookies(webUrl)).find((k) => k.name === "__Host-hostward_session")!;
    const foreign = await fetch(`${webUrl}/api/v1/resources`, {
      method: "PUT", tls: { rejectUnauthorized: false },
      headers: { cookie: `${cookie.name}=${cookie.value}`, origin: "https://evil.example", "x-csrf-token": csrf, "content-type": "application/json" },
      body: JSON.stringify({ kind: "lock", target: { user: "csrf-victim" } }),
    });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as any).error).toContain("cross-origin");
    expect(await c.ctlOk("get", "locks")).not.toContain("csrf-victim");
    await page.close();
  });
});

describe("sessions", () => {
  test("'Terminate' ends one session with the message; the person's other session goes on", async () => {
    const page = await signedInPage();
    await page.goto(`${webUrl}/#/sessions`);
    const [a, b] = [await openLiveSession(c.sshArgs(agent, dave, "root", ["-tt"])), await openLiveSession(c.sshArgs(agent, dave, "root", ["-tt"]))];
    try {
      await page.locator("[data-testid=sessions] tbody tr", { hasText: "dave" }).filter({ hasText: "active" }).nth(1).waitFor({ timeout: 10_000 });
      const active = JSON.parse(await c.ctlOk("sessions", "ls", "--state", "active", "--user", "dave", "--format", "json")) as { id: string; start: string }[];
      expect(active).toHaveLength(2);
      const target = [...active].sort((x, y) => x.start.localeCompare(y.start))[0]!; // a's session started first
      await page.click(`[data-testid=terminate-${target.id}]`);
      await page.fill("dialog[data-testid=terminate-dialog] input[name=message]", "Please reconnect.");
      await page.click("[data-testid=terminate-confirm]");
      await a.ended(15_000);
      expect(a.proc.output()).toContain("session terminated by admin: Please reconnect.");
      expect(b.alive()).toBe(true);
      b.send("echo STILL-$((20+1))");
      await b.proc.waitForOutput(/STILL-21/);
      await page.locator(`[data-session="${target.id}"]`, { hasText: "completed" }).waitFor({ timeout: 15_000 });
      const audit = JSON.parse(await c.ctlOk("events", "ls", "--type", "session.terminate", "--format", "json")) as { sid: string; user: string }[];
      expect(audit.some((e) => e.sid === target.id && e.user === "admin")).toBe(true);
    } finally {
      b.send("exit");
      await b.ended(15_000).catch(() => {});
    }
    await page.close();
  }, 90_000);

  test("an ssh -tt session appears live; 'Lock user' cuts it and the row says why", async () => {
    const page = await signedInPage();
    await page.goto(`${webUrl}/#/sessions`);
    await page.waitForSelector("[data-testid=sessions]");
    const s = await openLiveSession(c.sshArgs(agent, dave, "root", ["-tt"]));
    const t0 = Date.now();
    const row = page.locator("[data-testid=sessions] tbody tr", { hasText: "dave" }).filter({ hasText: "active" });
    await row.first().waitFor({ timeout: 10_000 });
    const appearedMs = Date.now() - t0;
    console.log(`web console: live session row appeared ${appearedMs} ms after the shell was ready`);
    await shot(page, "sessions");
    await page.click("[data-testid=lock-dave]");
    await page.fill("dialog input[name=message]", "Investigating, call security.");
    await page.fill("dialog input[name=ttl]", "2m");
    await shot(page, "lock-dialog");
    await page.click("[data-testid=lock-confirm]");
    try {
      await s.ended(15_000);
      expect(s.proc.output()).toContain("Investigating, call security.");
      // The active row goes; the session is listed as completed, with the reason.
      const cut = page.locator("[data-testid=sessions] tbody tr", { hasText: "dave" }).filter({ hasText: "Investigating" }).filter({ hasText: "completed" });
      await cut.first().waitFor({ timeout: 15_000 });
      expect(await cut.first().textContent()).toContain('lock targeting User:"dave" is in force: Investigating, call security.');
    } finally {
      const locks = JSON.parse(await c.ctlOk("get", "locks", "--format", "json")) as { name: string; target: { user?: string } }[];
      for (const l of locks.filter((l) => l.target.user === "dave")) await c.ctlOk("unlock", l.name);
    }
    await page.close();
  }, 90_000);
});

describe("recording player", () => {
  let sid = "";
  let times = { second: 0, third: 0, duration: 0 };

  test("a recorded session plays: pause, seek back and forth, speed, restart at the end, #t= links", async () => {
    const r = await c.ssh(agent, dave, "root", ["printf 'first-line\\n'; sleep 2; printf 'second-line\\n'; sleep 2; printf 'third-line\\n'"], { extra: ["-tt"] });
    expect(r.code).toBe(0);
    // dave's earlier sessions (login shells) are recorded too, and may be listed first: this one is his only exec.
    let rec: RecordingRow | undefined;
    await waitFor(async () => {
      rec = (await recordingsOf(c, "dave")).find((x) => x.kind === "exec" && x.state !== "uploading");
      return rec !== undefined;
    }, 30_000, "dave's recorded exec session", 200);
    sid = rec!.session_id;
    const page = await signedInPage();
    await page.goto(`${webUrl}/#/recordings`);
    const popup = page.context().waitForEvent("page");
    await page.click(`[data-testid=play-${sid}]`);
    const player = await popup;
    await player.waitForSelector("body[data-ready='1']", { timeout: 15_000 });
    const data = await player.evaluate(async (id) => (await fetch(`/api/v1/recordings/${id}/events`)).json() as any, sid);
    const at = (word: string) => data.events.find((e: unknown[]) => typeof e[2] === "string" && (e[2] as string).includes(word))[0] as number;
    times = { second: at("second-line"), third: at("third-line"), duration: data.duration_ms };
    expect(times.second).toBeGreaterThan(1500);
    expect(times.third - times.second).toBeGreaterThan(1500);

    const text = () => player.evaluate(async () => { const p = (window as any).hostwardPlayer; await p.settled(); return p.screenText() as string; });
    const pos = () => player.evaluate(() => (window as any).hostwardPlayer.pos as number);
    // Seek by clicking the timeline between the second and third lines, then back before the second.
    const box = (await player.locator("#timeline").boundingBox())!;
    const clickAt = async (ms: number) => player.mouse.click(box.x + 8 + ((box.width - 16) * ms) / times.duration, box.y + box.height / 2);
    await clickAt((times.second + times.third) / 2);
    expect(await text()).toContain("second-line");
    expect(await text()).not.toContain("third-line");
    await shot(player, "player");
    await clickAt(times.second / 2);
    expect(await text()).toContain("first-line");
    expect(await text()).not.toContain("second-line");
    // Keyboard: End shows the last line; Home goes back to the start.
    await player.keyboard.press("End");
    expect(await text()).toContain("third-line");
    await player.keyboard.press("Home");
    expect(await text()).not.toContain("second-line");
    // Play, pause: the position holds while paused.
    await player.keyboard.press("Space");
    await player.waitForFunction(() => (window as any).hostwardPlayer.pos > 300);
    await player.keyboard.press("Space");
    expect(await player.getAttribute("body", "data-state")).toBe("paused");
    const held = await pos();
    await player.waitForTimeout(300); // a span of time that must pass with nothing moving (not a synchronisation)
    expect(await pos()).toBe(held);
    // Speed 4x: the rest plays in well under real time; at the end the button restarts.
    await player.selectOption("#speed", "4");
    await player.evaluate(() => { document.getElementById("skipidle").checked = false; });
    const started = Date.now();
    await player.keyboard.press("Space");
    await player.waitForSelector("body[data-state='ended']", { timeout: 15_000 });
    expect(Date.now() - started).toBeLessThan((times.duration - held) / 2);
    expect(await text()).toContain("third-line");
    await player.click("#play");
    await player.waitForFunction(() => (window as any).hostwardPlayer.pos < 1500 && document.body.dataset.state === "playing");
    await player.keyboard.press("Space");
    // A link to a moment opens there.
    const moment = await browser.context.newPage();
    await moment.goto(`${webUrl}/player?sid=${sid}#t=0:0${Math.ceil((times.second + 100) / 1000)}`);
    await moment.waitForSelector("body[data-ready='1']");
    expect(await moment.evaluate(async () => { const p = (window as any).hostwardPlayer; await p.settled(); return p.screenText() as string; })).toContain("second-line");
    await moment.close();
    // Every playback is audited, as the CLI's is.
    const access = JSON.parse(await c.ctlOk("events", "ls", "--type", "session.recording.access", "--format", "json")) as { sid: string; user: string }[];
    expect(access.filter((e) => e.sid === sid && e.user === "admin").length).toBeGreaterThanOrEqual(2);
    await shot(page, "recordings");
    await player.close();
    await page.close();
  }, 90_000);

  // How long a seek takes is measured by `bun run bench console`, not asserted here.
  test("seeking in a 1-hour recording shows the screen of that moment", async () => {
    const page = await signedInPage();
    // A synthetic hour (a prompt and output every second, screens cleared now and then),
    // served in place of the recording's events to measure the player alone.
    const events: unknown[] = [];
    for (let s = 0; s < 3600; s++) {
      events.push([s * 1000, "o", `$ date\r\n${new Date(s * 1000).toISOString()} line ${s} ${"x".repeat(60)}\r\n`]);
      if (s % 300 === 299) events.push([s * 1000 + 500, "o", "\x1b[2J\x1b[H"]);
    }
    await page.route("**/api/v1/recordings/*/events", (route) => route.fulfill({
      json: { start: { user: "synthetic", login: "root", server_id: "00000000-0000-0000-0000-000000000000", time: new Date().toISOString(), cols: 120, rows: 40 }, duration_ms: 3_600_000, truncated: null, state: "complete", events },
    }));
    await page.goto(`${webUrl}/player?sid=00000000-0000-4000-8000-000000000000`);
    await page.waitForSelector("body[data-ready='1']", { timeout: 15_000 });
    const seeks: number[] = [];
    for (const t of [3_540_000, 1_800_000, 600_000, 3_599_000, 5_000]) {
      const got = await page.evaluate(async (ms) => { const p = (window as any).hostwardPlayer; await p.seek(ms); return { took: p.lastSeekMs as number, text: p.screenText() as string }; }, t);
      expect(got.text).toContain(`line ${Math.floor(t / 1000)} `);
      seeks.push(Math.round(got.took));
    }
    console.log(`web console: seeks in a 1-hour recording took ${seeks.join(", ")} ms`);
    await page.close();
  }, 60_000);
});

describe("pages and roles", () => {
  test("admin: locks, nodes (fleet health, unregister offered), audit log with full JSON, storage", async () => {
    const page = await signedInPage();
    await page.goto(`${webUrl}/#/locks`);
    await page.fill("[data-testid=lock-form] input[name=login]", "backup");
    await page.fill("[data-testid=lock-form] input[name=message]", "Backups paused.");
    await page.fill("[data-testid=lock-form] input[name=ttl]", "1h");
    await page.click("[data-testid=lock-form] button[type=submit]");
    await page.locator("[data-testid=locks] tr", { hasText: "login=backup" }).waitFor();
    // The API's validation and message, unchanged: a lock with no target.
    await page.fill("[data-testid=lock-form] input[name=message]", "no target");
    await page.click("[data-testid=lock-form] button[type=submit]");
    await page.waitForFunction(() => (document.querySelector("[data-testid=lock-error]")?.textContent ?? "").includes("at least one target"), undefined, { timeout: 10_000 });
    await shot(page, "locks");
    await page.goto(`${webUrl}/#/nodes`);
    const node = page.locator("[data-testid=nodes] tbody tr").first();
    await node.waitFor();
    expect(await node.textContent()).toContain("online");
    expect(await node.textContent()).toContain("env=staging");
    // What the agent's heartbeat carries: lock view age and mode, outbox, sessions, spool.
    await page.waitForFunction(() => /\d+\.\ds, (best_effort|strict)/.test(document.querySelector("[data-testid=nodes] tbody tr")?.textContent ?? ""), undefined, { timeout: 15_000 });
    expect(await page.locator("text=Unregister this node").count()).toBe(1);
    await shot(page, "nodes");
    await page.goto(`${webUrl}/#/audit`);
    await page.fill("input[name=type]", "lock.created");
    await page.click("text=Filter");
    await page.locator("[data-testid=events] tbody tr", { hasText: "login" }).first().waitFor();
    await page.locator("[data-testid=events] summary").first().click();
    expect(await page.locator("[data-testid=events] pre.json").first().textContent()).toContain('"event": "lock.created"');
    await shot(page, "audit");
    await page.goto(`${webUrl}/#/storage`);
    const storage = await page.locator("[data-testid=storage]").textContent({ timeout: 10_000 });
    expect(storage).toMatch(/recordings/);
    await shot(page, "storage");
    await page.close();
  }, 60_000);

  test("an auditor sees sessions, recordings and the audit log, no lock buttons, and the API still refuses", async () => {
    const ann = await c.addUser("ann", ["auditor"]);
    const page = await signedInPage(identityOf(ann));
    const nav = await page.locator("#nav a").allTextContents();
    expect(nav).toEqual(["Sessions", "Recordings", "Audit log", "Storage"]);
    await page.waitForSelector("[data-testid=sessions]");
    expect(await page.locator("button", { hasText: "Lock user" }).count()).toBe(0);
    expect(await page.locator("button", { hasText: "Terminate" }).count()).toBe(0);
    await shot(page, "auditor");
    const refused = await page.evaluate(async () => {
      const me = (await (await fetch("/web/me")).json()) as any;
      const res = await fetch("/api/v1/resources", { method: "PUT", headers: { "x-csrf-token": me.csrf, "content-type": "application/json" }, body: JSON.stringify({ kind: "lock", target: { user: "dave" } }) });
      return { status: res.status, body: (await res.json()) as any };
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('access denied to perform action "create" on "lock"');
    const terminate = await page.evaluate(async () => {
      const me = (await (await fetch("/web/me")).json()) as any;
      return (await fetch("/api/v1/sessions/00000000-0000-4000-8000-000000000000/terminate", { method: "POST", headers: { "x-csrf-token": me.csrf } })).status;
    });
    expect(terminate).toBe(403);
    await page.close();
  }, 60_000);

  test("a person with no console rules gets a page that says so", async () => {
    const nora = await c.addUser("nora", ["ops"]);
    const page = await signedInPage(identityOf(nora));
    expect(await page.textContent("[data-testid=no-rules]")).toContain("none of your roles");
    await page.close();
  }, 60_000);

  test("a person locked while signed in is signed out at their next request, and the live view closes", async () => {
    const erin = await c.addUser("erin", ["auditor"]);
    const page = await signedInPage(identityOf(erin));
    await page.waitForSelector("[data-testid=sessions]");
    await c.ctlOk("lock", "--user", "erin", "--message", "Access review.", "--ttl", "10m");
    expect(await page.textContent("[data-testid=signed-out]", { timeout: 10_000 })).toContain("Access review.");
    await shot(page, "signed-out");
    const again = await page.evaluate(async () => (await fetch("/web/me")).status);
    expect(again).toBe(401);
    await page.close();
  }, 60_000);
});
