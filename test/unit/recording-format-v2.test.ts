// Format version 2: output bytes as frames instead of base64, read back exactly by the
// reader, the part check and salvage; version-1 recordings (a fixture written by the
// version-1 encoder: batchText + gzipMember at 231d280, two parts of sized members)
// still play; incompressible output is stored, not squeezed.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { batchText } from "../../src/agent/recording/batch-text.ts";
import { LINE, PRINT, RESIZE, STDIN, type BatchEvent } from "../../src/agent/recording/encoder-protocol.ts";
import { repeatShare } from "../../src/recording/format/compressibility.ts";
import { walkEvents } from "../../src/recording/format/event-stream.ts";
import { checkPart, gunzipPart, gzipMember, salvageLines } from "../../src/recording/format/part-codec.ts";
import { eventBytes, eventLine, FORMAT_VERSION, parseEventLine, type RecordingEvent } from "../../src/recording/format/recording-event.ts";
import { readRecording } from "../../src/recording/format/recording-reader.ts";

const FIXTURES = join(import.meta.dir, "..", "recording", "fixtures");
const output = (events: RecordingEvent[]) => Buffer.concat(events.filter((e) => e.event === "print").map((e) => eventBytes(e)));

/** A batch as the agent's main thread builds it: chunks copied into one buffer, an event per chunk. */
function batch(chunks: [typeof PRINT | typeof STDIN, Uint8Array][]): { buf: Uint8Array; events: BatchEvent[] } {
  const buf = Buffer.concat(chunks.map(([, c]) => c));
  const events: BatchEvent[] = [[LINE, '{"event":"session.start","ms":0,"version":2}\n']];
  let o = 0;
  chunks.forEach(([k, c], i) => {
    events.push([k, i * 10, o, c.length]);
    if (i === 1) events.push([RESIZE, i * 10, 120, 40]);
    o += c.length;
  });
  events.push([LINE, eventLine({ event: "session.end", ms: 999, time: "t" })]);
  return { buf, events };
}

const random = (n: number) => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(b.subarray(i, Math.min(n, i + 65536)));
  return b;
};

describe("format version 2", () => {
  const chunks: [typeof PRINT | typeof STDIN, Uint8Array][] = [
    [PRINT, Buffer.from("prompt$ ")],
    [STDIN, Buffer.from("l")],
    [PRINT, Uint8Array.from([0x00, 0x0a, 0x0a, 0xff, 0x7b, 0x22, 0x5c])], // NUL, newlines, invalid UTF-8, {"\
    [PRINT, Buffer.from("é").subarray(0, 1)],
    [PRINT, random(100_000)],
    [PRINT, Buffer.from(`{"event":"print","ms":1,"n":3}\n`.repeat(2000))], // output that looks like a frame head
    [PRINT, new Uint8Array(0)],
  ];
  const { buf, events } = batch(chunks);
  const raw = batchText(buf, events).bytes;

  test("every chunk comes back byte for byte, in order, with its ms; text stays readable, binary is a frame", () => {
    const got: RecordingEvent[] = [];
    const w = walkEvents(raw, { attach: true, visit: (e) => void got.push(e) });
    expect(w.error).toBeUndefined();
    expect(w.end).toBe(raw.length);
    const bytesEvents = got.filter((e) => e.event === "print" || e.event === "stdin");
    expect(bytesEvents.map((e) => Buffer.from(eventBytes(e)))).toEqual(chunks.map(([, c]) => Buffer.from(c)));
    expect(bytesEvents.map((e) => e.event)).toEqual(chunks.map(([k]) => (k === PRINT ? "print" : "stdin")));
    expect(bytesEvents.map((e) => e.ms)).toEqual(chunks.map((_, i) => i * 10));
    expect(bytesEvents[0]).toMatchObject({ data: "prompt$ " });
    expect(bytesEvents[2]).toMatchObject({ n: 7 });
    expect(bytesEvents[4]!.b64).toBeUndefined();
    expect(got.find((e) => e.event === "resize")).toMatchObject({ cols: 120, rows: 40 });
    expect(raw.length).toBeLessThan(buf.length + 1000); // no base64: a head line per chunk, nothing more
  });

  test("the part check, the reader and salvage take frames; play --format json lines are plain JSON", () => {
    const part = Buffer.concat([gzipMember(raw.subarray(0, 60)), gzipMember(raw.subarray(60))]);
    // Members are cut at event boundaries by the encoder; one cut mid-event is caught.
    expect(checkPart(part)).toMatchObject({ ok: false, reason: expect.stringMatching(/cut short|no newline/) });
    const whole = gzipMember(raw);
    expect(checkPart(whole)).toMatchObject({ ok: true, events: events.length, lastMs: 999 });
    const rec = readRecording(whole);
    expect(rec.truncated).toBeUndefined();
    expect(output(rec.events)).toEqual(Buffer.from(output(walkAll(raw))));
    const json = rec.events.map(eventLine);
    const back = json.map((l) => parseEventLine(l.slice(0, -1)));
    expect(json.every((l) => l.endsWith("\n") && !l.slice(0, -1).includes("\n"))).toBe(true);
    expect(output(back)).toEqual(output(rec.events));
    const cut = salvageLines(whole.subarray(0, whole.length - 30));
    expect(cut.complete).toBe(false);
    expect(checkPart(gzipMember(cut.bytes)).ok).toBe(true);
    expect(salvageLines(whole)).toMatchObject({ complete: true, events: events.length });
  });

  test("a frame cut short is where the reader says the recording ends", () => {
    const i = Buffer.from(raw).indexOf('"n":100000');
    const rec = readRecording(gzipMember(raw.subarray(0, i + 5000)));
    expect(rec.truncated).toMatch(/ends early .* the last line is cut short/);
    expect(rec.events.at(-1)?.event).toBe("print");
  });

  test("the agent writes version 2", () => expect(FORMAT_VERSION).toBe(2));
});

function walkAll(raw: Uint8Array): RecordingEvent[] {
  const out: RecordingEvent[] = [];
  walkEvents(raw, { attach: true, visit: (e) => void out.push(e) });
  return out;
}

describe("version 1 recordings still play", () => {
  const file = readFileSync(join(FIXTURES, "v1-shell.ndjson.gz"));
  const expected = readFileSync(join(FIXTURES, "v1-shell.output"));
  test("the fixture written by the version-1 encoder reads back byte for byte", () => {
    const rec = readRecording(file);
    expect(rec.truncated).toBeUndefined();
    expect(rec.start).toMatchObject({ version: 1, kind: "shell" });
    expect(rec.end).toMatchObject({ exit_code: 0 });
    expect(output(rec.events)).toEqual(expected);
    expect(rec.events.some((e) => e.event === "print" && typeof e.b64 === "string" && e.b64.length > 20_000)).toBe(true);
    expect(checkPart(file)).toMatchObject({ ok: true, events: rec.events.length });
    expect(gunzipPart(file).toString("latin1")).toContain('"b64":"');
  });
});

describe("incompressible output is stored, not squeezed", () => {
  const text = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `-rw-r--r-- 1 root root ${i * 37} Nov 21 file_${i}.txt\r\n`).join(""));
  const rnd = random(1 << 20);
  const cases: [string, Uint8Array, boolean][] = [
    ["random bytes", rnd, true],
    ["base64 of random bytes", Buffer.from(Buffer.from(rnd).toString("base64")), true],
    ["gzip output", Bun.gzipSync(random(300_000)), true],
    ["zeros", new Uint8Array(1 << 20), false],
    ["a directory listing", text, false],
  ];
  for (const [name, bytes, stored] of cases) {
    test(name, () => {
      expect(repeatShare(bytes) < 0.1).toBe(stored);
      const m = gzipMember(bytes);
      if (stored) expect(m.length).toBeGreaterThan(bytes.length);
      else expect(m.length).toBeLessThan(bytes.length / 4);
      expect(Buffer.from(Bun.gunzipSync(m as Uint8Array<ArrayBuffer>))).toEqual(Buffer.from(bytes));
    });
  }
});
