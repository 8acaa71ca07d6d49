// `hostward play` (pty) must not let a recorded user attack whoever replays the session:
// only what draws the screen reaches the viewer's terminal — no OSC 52 clipboard
// writes, titles, OSC/DCS/APC/PM strings, or queries that make the terminal answer.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipMember } from "../../src/recording/format/part-codec.ts";
import { CLI, run } from "../helpers/process.ts";

const dir = mkdtempSync(join(tmpdir(), "hostward-play-filter-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ATTACKS = [
  "\x1b]52;c;ZWNobyBwd25lZA==\x07", // OSC 52: write the clipboard
  "\x1b]52;c;?\x1b\\", // OSC 52: read it back
  "\x1b]0;pwned title\x07", "\x1b]2;pwned\x1b\\", // titles
  "\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\", // hyperlink
  "\x1bP+q544e\x1b\\", "\x1bPq#0;2;0;0;0#0~~@@vv@@~~@@~~$\x1b\\", // DCS: XTGETTCAP, sixel
  "\x1b_Gf=100;AAAA\x1b\\", "\x1b^private\x1b\\", // APC (kitty graphics), PM
  "\x1b[c", "\x1b[>c", "\x1b[6n", "\x1b[5n", "\x1b[?6n", "\x1b[21t", "\x1b[14t", "\x1b[18t", "\x1b[>0q", // queries
  "\x1b[?1049h", "\x1b[?1000h", "\x1b[?2004h", "\x1b[4h", "\x1bc", "\x1b[1;5r", "\x1b[3;9t", // modes, reset, region, window ops
  "\x9d0;c1 title\x07", // C1 OSC (a lone byte: not UTF-8)
  "\xc2\x9d0;c1 utf8\x07", // C1 OSC as UTF-8 (U+009D)
];

const file = join(dir, "hostile.ndjson.gz");

test("play --format pty writes only text, SGR, cursor moves and erases", async () => {
  const start = { event: "session.start", ms: 0, version: 1, sid: "x", time: new Date().toISOString(), server_id: "n", user: "u", login: "l", kind: "shell", mode: "node", cols: 80, rows: 24 };
  const lines = [JSON.stringify(start)];
  ATTACKS.forEach((a, i) => lines.push(JSON.stringify({ event: "print", ms: i * 10, b64: Buffer.from(`\x1b[1;3${i % 8}mvisible-${i}\x1b[0m ${a}\r\n`, "latin1").toString("base64") })));
  lines.push(JSON.stringify({ event: "print", ms: 990, data: "\x1b[r\x1b[?1049l\x1b[2J\x1b[Hthe last line\r\n" }));
  lines.push(JSON.stringify({ event: "session.end", ms: 1000, time: new Date().toISOString() }));
  writeFileSync(file, gzipMember(lines.join("\n") + "\n"));
  const r = await run([...CLI, "play", file, "--speed", "1000"]);
  expect(r.code).toBe(0);
  const out = r.stdout;
  expect(out).toContain("visible-0");
  expect(out).toContain("the last line");
  expect(out).not.toContain("pwned");
  expect(out).not.toContain("evil.example");
  // Every escape sequence is one of ours: SGR, cursor position, erase, save/restore.
  const sequences = out.match(/\x1b(\[[0-9;?]*[ -\/]*[@-~]|[\s\S])/g) ?? [];
  const foreign = sequences.filter((s) => !/^\x1b(\[[0-9;]*[mHJK]|7|8)$/.test(s));
  expect(foreign).toEqual([]);
  // No other control characters than CR and LF (no BEL, no C1).
  expect(out.replace(/\x1b/g, "")).not.toMatch(/[\x00-\x09\x0b\x0c\x0e-\x1f\x7f\x80-\x9f]/);
});

test("play --format text writes no escape sequence and no C0 or C1 control but newlines", async () => {
  const r = await run([...CLI, "play", file, "--format", "text"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("visible-0");
  expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
});
