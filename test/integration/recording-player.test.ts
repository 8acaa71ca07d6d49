// The pty player in a real terminal (tmux): it plays with timing and a status line, and
// space pauses, →/← seek 5 s (rewinding too), + speeds up, q quits.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Terminal } from "@xterm/headless";
import { gzipMember } from "../../src/recording/format/part-codec.ts";
import { CLI, run, waitFor } from "../helpers/process.ts";

const dir = mkdtempSync(join(tmpdir(), "hostward-player-"));
const socket = `hw-player-${process.pid}`;
const file = join(dir, "rec.ndjson.gz");

const tmux = (...args: string[]) => run(["tmux", "-L", socket, ...args]);
const screen = async () => (await tmux("capture-pane", "-p", "-t", "play")).stdout;

/** Position shown in the status line, in seconds. */
async function position(): Promise<number> {
  const m = /(\d+):(\d\d) \/ 1:00/.exec(await screen());
  return m ? Number(m[1]) * 60 + Number(m[2]) : -1;
}

beforeAll(async () => {
  // A session that outlives the players, so the tmux server is never exiting while the next one starts.
  expect((await tmux("new-session", "-d", "-s", "keep", "sleep 3600")).code).toBe(0);
  // One minute: "tick NN" each second; the screen is cleared every 10 s.
  const lines = [JSON.stringify({ event: "session.start", ms: 0, version: 1, sid: "x", time: new Date().toISOString(), server_id: "n", user: "u", login: "l", kind: "shell", mode: "node", cols: 80, rows: 20 })];
  for (let s = 0; s <= 60; s++) {
    const clear = s % 10 === 0 ? "\x1b[H\x1b[2J" : "";
    lines.push(JSON.stringify({ event: "print", ms: s * 1000, data: `${clear}tick ${String(s).padStart(2, "0")}\r\n` }));
  }
  lines.push(JSON.stringify({ event: "session.end", ms: 60_000, time: new Date().toISOString() }));
  writeFileSync(file, gzipMember(lines.join("\n") + "\n"));
  const r = await tmux("new-session", "-d", "-s", "play", "-x", "100", "-y", "24", [...CLI, "play", file].map((a) => `'${a}'`).join(" "));
  expect(r.code).toBe(0);
});

afterAll(async () => {
  await tmux("kill-server");
  rmSync(dir, { recursive: true, force: true });
});

test("plays, pauses, seeks both ways, changes speed and quits", async () => {
  await waitFor(async () => (await screen()).includes("tick 02"), 10_000, "playback to reach tick 02", 100);
  expect(await screen()).toMatch(/▶ playing {2}0:0\d \/ 1:00 {2}speed 1x/);

  await tmux("send-keys", "-t", "play", "Space");
  await waitFor(async () => (await screen()).includes("paused"), 5_000, "paused", 50);
  const paused = await position();
  await Bun.sleep(1_200); // a pause must hold: the clock has to be seen standing still
  expect(await position()).toBe(paused);

  await tmux("send-keys", "-t", "play", "Right");
  await waitFor(async () => (await position()) === paused + 5, 5_000, "seek forward 5 s", 50);
  expect(await screen()).toContain(`tick ${String(paused + 5).padStart(2, "0")}`);

  await tmux("send-keys", "-t", "play", "Right", "Right", "Right");
  await waitFor(async () => (await position()) === paused + 20, 5_000, "seek forward 20 s", 50);
  await tmux("send-keys", "-t", "play", "Left", "Left", "Left");
  await waitFor(async () => (await position()) === paused + 5, 5_000, "rewind 15 s", 50);
  const s = await screen();
  expect(s).toContain(`tick ${String(paused + 5).padStart(2, "0")}`);
  expect(s).not.toContain(`tick ${String(paused + 20).padStart(2, "0")}`);

  await tmux("send-keys", "-t", "play", "+");
  await waitFor(async () => (await screen()).includes("speed 2x"), 5_000, "speed 2x", 50);
  await tmux("send-keys", "-t", "play", "Space");
  await waitFor(async () => (await screen()).includes("playing"), 5_000, "playing again", 50);

  await tmux("send-keys", "-t", "play", "q");
  await waitFor(async () => (await tmux("has-session", "-t", "play")).code !== 0, 5_000, "the player to quit", 50);
}, 60_000);

/** A 100×30 recording that scrolls, wraps, colours and sets its own scroll region, one burst a second. */
function scrollingRecording(): { file: string; prints: { ms: number; data: string }[] } {
  const prints: { ms: number; data: string }[] = [];
  for (let s = 0; s <= 40; s++) {
    let data = "";
    for (let k = 0; k < 7; k++) data += `\x1b[3${k}m${s}-${k}\x1b[0m ${k === 3 ? "w".repeat(130) : "line"}\r\n`;
    if (s === 20) data += "\x1b[5;25r\x1b[25;1H" + "in region\r\n".repeat(12) + "\x1b[r\x1b[30;1H";
    prints.push({ ms: s * 1000, data });
  }
  const start = { event: "session.start", ms: 0, version: 1, sid: "y", time: new Date().toISOString(), server_id: "n", user: "u", login: "l", kind: "shell", mode: "node", cols: 100, rows: 30 };
  const lines = [JSON.stringify(start), ...prints.map((p) => JSON.stringify({ event: "print", ...p })), JSON.stringify({ event: "session.end", ms: 40_000, time: new Date().toISOString() })];
  const f = join(dir, "scrolling.ndjson.gz");
  writeFileSync(f, gzipMember(lines.join("\n") + "\n"));
  return { file: f, prints };
}

/** The recording's screen after every print at or before `ms`, as a reference terminal shows it. */
async function expectedScreen(prints: { ms: number; data: string }[], ms: number): Promise<string[]> {
  const t = new Terminal({ cols: 100, rows: 30, scrollback: 0, allowProposedApi: true });
  await new Promise<void>((r) => t.write(prints.filter((p) => p.ms <= ms).map((p) => p.data).join(""), r));
  const b = t.buffer.active;
  return Array.from({ length: 30 }, (_, y) => b.getLine(b.baseY + y)!.translateToString(true));
}

for (const paneRows of [31, 32, 40]) {
  test(`a 100x30 recording in a 100x${paneRows} pane: the screen is exactly the recording's, the status line below it`, async () => {
    const { file: f, prints } = scrollingRecording();
    const name = `exact${paneRows}`;
    expect((await tmux("new-session", "-d", "-s", name, "-x", "100", "-y", String(paneRows), [...CLI, "play", f, "--speed", "4"].map((a) => `'${a}'`).join(" "))).code).toBe(0);
    const pane = async () => (await tmux("capture-pane", "-p", "-t", name)).stdout.replace(/\n$/, "").split("\n");
    for (const [i, pauseAt] of [/0:2[2-9] \/ 0:40/, /0:3[4-9] \/ 0:40/].entries()) {
      if (i > 0) await tmux("send-keys", "-t", name, "Space"); // resume
      await waitFor(async () => pauseAt.test((await pane()).join("\n")), 30_000, `playback to reach ${pauseAt}`, 50);
      await tmux("send-keys", "-t", name, "Space");
      await waitFor(async () => (await pane()).join("\n").includes("paused"), 5_000, "paused", 50);
      // A frame being painted as the pause arrived lands just after: wait for the pane to hold still.
      let rows = await pane();
      await waitFor(async () => { const again = await pane(); const same = again.join("\n") === rows.join("\n"); rows = again; return same; }, 5_000, "a still pane", 100);
      const m = /(\d+):(\d\d) \/ 0:40/.exec(rows[paneRows - 1]!)!;
      const at = (Number(m[1]) * 60 + Number(m[2])) * 1000;
      expect(rows.slice(0, 30).map((r) => r.trimEnd())).toEqual(await expectedScreen(prints, at));
      for (const r of rows.slice(30, paneRows - 1)) expect(r.trim()).toBe("");
      expect(rows[paneRows - 1]).toContain("❚❚ paused");
      expect(rows.slice(0, paneRows - 1).join("\n")).not.toContain("speed 4x");
    }
    await tmux("send-keys", "-t", name, "q");
    await waitFor(async () => (await tmux("has-session", "-t", name)).code !== 0, 5_000, "the player to quit", 50);
  }, 90_000);
}
