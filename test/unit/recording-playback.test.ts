// Playback's pure parts: text without escapes, clock strings, idle skipping, seek and
// speed steps, player keys, asciicast lines, and the screen index (a seek — forward or
// back — rebuilds exactly the screen that playing from the start would show).
import { describe, expect, test } from "bun:test";
import { SerializeAddon } from "@xterm/addon-serialize";
import { Terminal } from "@xterm/headless";
import { asciicastLines } from "../../src/play/asciicast.ts";
import { formatClock, parseClock } from "../../src/recording/format/clock.ts";
import { playerKey } from "../../src/play/player-keys.ts";
import type { RecordingEvent } from "../../src/recording/format/recording-event.ts";
import type { LoadedRecording } from "../../src/recording/format/recording-reader.ts";
import { ScreenIndex } from "../../src/play/screen-index.ts";
import { plainText } from "../../src/play/text-output.ts";
import { nextSpeed, seekTarget, timing } from "../../src/recording/format/timeline.ts";


test("plain text", () => {
  const cases: [string, string][] = [
    ["a\r\nb\r\n", "a\nb\n"],
    ["\x1b[1;31mred\x1b[0m", "red"],
    ["\x1b]0;title\x07prompt$ ", "prompt$ "],
    ["\x1b]0;title\x1b\\x", "x"],
    ["\x1b[?2004hls\x1b[?2004l\r\n", "ls\n"],
    ["\x1b(Bok\x1b=", "ok"],
    ["bell\x07 and nul\x00", "bell and nul"],
    ["progress\r50%\r100%\n", "progress\n50%\n100%\n"],
  ];
  for (const [input, want] of cases) expect(plainText(input)).toBe(want);
});

test("clock strings", () => {
  const cases: [string, number][] = [["90s", 90_000], ["1m30s", 90_000], ["1:30", 90_000], ["1:02:03", 3_723_000], ["0:05.5", 5_500]];
  for (const [s, ms] of cases) expect(parseClock(s)).toBe(ms);
  expect(() => parseClock("soon")).toThrow();
  const shown: [number, string][] = [[0, "0:00"], [5_999, "0:05"], [65_000, "1:05"], [3_723_000, "1:02:03"]];
  for (const [ms, s] of shown) expect(formatClock(ms)).toBe(s);
});

test("skip-idle cuts long gaps, from shifts the start", () => {
  const ev = [{ ms: 0 }, { ms: 1_000 }, { ms: 61_000 }, { ms: 62_000 }];
  const t = timing(ev, { skipIdleMs: 2_000 });
  expect([0, 1_000, 61_000, 62_000].map((m) => t.displayMs(m))).toEqual([0, 1_000, 3_000, 4_000]);
  const f = timing(ev, { fromMs: 1_000 });
  expect([1_000, 61_000].map((m) => f.displayMs(m))).toEqual([0, 60_000]);
});

test("seek and speed steps", () => {
  const cases: [number, number, number][] = [[10_000, 5_000, 15_000], [3_000, -5_000, 0], [58_000, 5_000, 60_000], [30_000, -5_000, 25_000]];
  for (const [cur, d, want] of cases) expect(seekTarget(cur, d, 60_000)).toBe(want);
  expect(nextSpeed(1, 1)).toBe(2);
  expect(nextSpeed(1, -1)).toBe(0.5);
  expect(nextSpeed(16, 1)).toBe(16);
  expect(nextSpeed(0.25, -1)).toBe(0.25);
  expect(nextSpeed(3, 1)).toBe(8);
});

test("player keys", () => {
  const cases: [string, string | undefined, number][] = [
    [" ", "pause", 1], ["\x1b[C", "forward", 3], ["\x1b[D", "back", 3], ["\x1bOC", "forward", 3],
    ["+", "faster", 1], ["=", "faster", 1], ["-", "slower", 1], ["q", "quit", 1], ["\x03", "quit", 1], ["x", undefined, 0],
  ];
  for (const [s, key, used] of cases) expect(playerKey(s)).toEqual(key ? { key: key as never, used } : { used });
});

function recording(events: RecordingEvent[]): LoadedRecording {
  return {
    events, durationMs: events.at(-1)!.ms,
    start: { event: "session.start", ms: 0, version: 1, sid: "s", time: "2026-01-01T00:00:00Z", server_id: "n", user: "u", login: "l", kind: "shell", mode: "node", cols: 40, rows: 10, term: "xterm" },
  };
}

test("asciicast v2 lines", () => {
  const rec = recording([
    { event: "print", ms: 0, data: "hello " }, { event: "resize", ms: 500, cols: 100, rows: 30 },
    { event: "print", ms: 1500, b64: Buffer.from([0xc3]).toString("base64") }, { event: "print", ms: 1600, b64: Buffer.from([0xa9]).toString("base64") },
  ]);
  const [head, ...lines] = [...asciicastLines(rec, timing(rec.events, {}))].map((l) => JSON.parse(l));
  expect(head).toMatchObject({ version: 2, width: 40, height: 10, timestamp: 1767225600, command: "shell" });
  expect(lines).toEqual([[0, "o", "hello "], [0.5, "r", "100x30"], [1.6, "o", "é"]]);
});

describe("screen index", () => {
  // A 10-minute session: a line a second, a screen clear every 100 s, a full-screen app in the middle.
  const events: RecordingEvent[] = [];
  for (let s = 0; s < 600; s++) {
    let text = `line ${s} \x1b[3${s % 8}mcolour\x1b[0m\r\n`;
    if (s % 100 === 0) text = "\x1b[H\x1b[2J" + text;
    if (s === 300) text += "\x1b[?1049h\x1b[H\x1b[2Jfull screen app\x1b[5;5Hcursor here";
    if (s === 320) text += "\x1b[?1049l";
    events.push({ event: "print", ms: s * 1000, data: text });
  }
  const rec = recording(events);

  async function screenOf(bytes: Uint8Array): Promise<string> {
    const term = new Terminal({ cols: 40, rows: 10, scrollback: 0, allowProposedApi: true });
    const ser = new SerializeAddon();
    term.loadAddon(ser);
    await new Promise<void>((r) => term.write(bytes, r));
    const cursor = `${term.buffer.active.cursorX},${term.buffer.active.cursorY},${term.buffer.active.type}`;
    return ser.serialize({ scrollback: 0 }) + "|" + cursor;
  }

  async function fromStart(ms: number): Promise<string> {
    const upTo = events.filter((e) => e.ms <= ms).map((e) => Buffer.from((e as { data: string }).data));
    return screenOf(Buffer.concat(upTo));
  }

  test("every seek shows what playing from the start shows, in any order", async () => {
    const idx = new ScreenIndex(rec);
    for (const ms of [312_400, 450_000, 5_000, 299_999, 300_000, 599_000, 150_500, 0]) {
      const frame = await idx.frameAt(ms);
      expect(await screenOf(frame.bytes)).toBe(await fromStart(ms));
      expect(frame.next).toBe(events.filter((e) => e.ms <= ms).length);
    }
    expect(idx.keyframes).toBeGreaterThanOrEqual(20); // one per 30 s of recording
  });

  test("a seek writes only the nearest keyframe and what follows it", async () => {
    const idx = new ScreenIndex(rec);
    await idx.frameAt(599_000);
    const frame = await idx.frameAt(300_500);
    expect(frame.bytes.length).toBeLessThan(2_000);
  });
});
