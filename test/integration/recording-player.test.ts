// The pty player in a real terminal (tmux): it plays with timing and a status line, and
// space pauses, →/← seek 5 s (rewinding too), + speeds up, q quits.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipMember } from "../../src/recording/part-codec.ts";
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
