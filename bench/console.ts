// `bun run bench console`: the web console's player in Debian's Chromium (playwright-core),
// seeking in a synthetic 1-hour recording (a prompt and a dated line every second, the
// screen cleared every 5 minutes) served in place of a real one's events: the time each
// seek takes to show the right screen, cold (first visit of a region) and warm. Goal:
// ≤ 200 ms. Writes bench/results/console.json.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { freePort } from "./free-port.ts";
import { hostwardCommand } from "./hostward-build.ts";
import { machineInfo } from "./machine-info.ts";
import { runCaptured, tail } from "./run-captured.ts";
import { startService } from "./service-process.ts";
import { summarize, type Summary } from "./stats.ts";
import { formatTable } from "./text-table.ts";

const ROOT = join(import.meta.dir, "..");
const HOUR_MS = 3_600_000;
const ROUNDS = 4;
const TARGETS = [3_540_000, 1_800_000, 600_000, 3_599_000, 5_000, 2_700_000, 1_200_000, 120_000];
const GOAL_MS = 200;
// Functions given to page.evaluate run in the browser, where this exists.
declare const window: { hostwardPlayer: { seek(ms: number): Promise<void>; lastSeekMs: number; screenText(): string } };

export async function run(): Promise<object> {
  const dir = mkdtempSync(join(tmpdir(), "hostward-bench-console-"));
  const hw = await hostwardCommand(ROOT, "worktree", dir);
  const [apiPort, webPort] = [await freePort(), await freePort()];
  writeFileSync(join(dir, "auth.toml"), `data_dir = "${dir}/auth"\nlisten = "127.0.0.1:${apiPort}"\n[web]\nlisten = "127.0.0.1:${webPort}"\n`);
  const auth = await startService("hostward auth", [...hw.cmd, "auth", "start", "--config", join(dir, "auth.toml")], /"auth service started"/, 30_000);
  const profile = mkdtempSync(join(tmpdir(), "hostward-bench-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium", headless: true, ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  try {
    const link = await runCaptured([...hw.cmd, "web", "--no-browser", "--identity", join(dir, "auth", "admin.identity")], 30_000);
    const url = /https:\/\/\S+/.exec(link.stdout)?.[0];
    if (!url) throw new Error(`hostward web printed no link: ${tail(link.stdout + link.stderr)}`);
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForSelector("[data-testid=who]", { timeout: 30_000 });
    await page.route("**/api/v1/recordings/*/events", (route) => route.fulfill({ json: syntheticHour() }));
    await page.goto(`https://127.0.0.1:${webPort}/player?sid=00000000-0000-4000-8000-000000000000`);
    await page.waitForSelector("body[data-ready='1']", { timeout: 30_000 });
    const cold: number[] = [];
    const warm: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of TARGETS) {
        const got = await page.evaluate(async (ms) => {
          const p = window.hostwardPlayer;
          await p.seek(ms);
          return { took: p.lastSeekMs, text: p.screenText() };
        }, t);
        if (!got.text.includes(`line ${Math.floor(t / 1000)} `)) throw new Error(`seek to ${t} ms showed the wrong screen`);
        (round === 0 ? cold : warm).push(got.took);
      }
    }
    const result = {
      machine: await machineInfo(ROOT),
      load: "this machine's other work runs beside the benchmark (shared 2-core machine)",
      hostward: hw.note, goalMs: GOAL_MS, seekColdMs: summarize(cold), seekWarmMs: summarize(warm),
    };
    const row = (name: string, s: Summary) => [name, `${s.p50.toFixed(1)} / ${s.max.toFixed(1)}`, `≤ ${GOAL_MS}`, s.max <= GOAL_MS ? "pass" : "miss"];
    console.log(formatTable(["seek in a 1-hour recording (Chromium), ms p50 / max", "hostward", "goal", "result"],
      [row(`cold (first visit, ${cold.length} seeks)`, result.seekColdMs), row(`warm (${warm.length} seeks)`, result.seekWarmMs)]));
    writeFileSync(join(ROOT, "bench/results/console.json"), JSON.stringify(result, null, 2) + "\n");
    return result;
  } finally {
    await context.close();
    await auth.stop();
    rmSync(profile, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

function syntheticHour(): object {
  const events: unknown[] = [];
  for (let s = 0; s < HOUR_MS / 1000; s++) {
    events.push([s * 1000, "o", `$ date\r\n${new Date(s * 1000).toISOString()} line ${s} ${"x".repeat(60)}\r\n`]);
    if (s % 300 === 299) events.push([s * 1000 + 500, "o", "\x1b[2J\x1b[H"]);
  }
  return {
    start: { user: "synthetic", login: "root", server_id: "00000000-0000-0000-0000-000000000000", time: new Date().toISOString(), cols: 120, rows: 40 },
    duration_ms: HOUR_MS, truncated: null, state: "complete", events,
  };
}
