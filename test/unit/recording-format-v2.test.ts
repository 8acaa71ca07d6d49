// Format version 2: output bytes as frames instead of base64, read back exactly by the
// reader, the part check and salvage; version-1 recordings (a fixture written by the
// version-1 encoder: batchText + gzipMember at 231d280, two parts of sized members)
// still play; incompressible output is stored, not squeezed.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { SessionRecording } from "../../src/agent/recording/session-recording.ts";
import { repeatShare } from "../../src/recording/format/compressibility.ts";
import { walkEvents } from "../../src/recording/format/event-stream.ts";
import { splitMembers, storedMember } from "../../src/recording/format/gzip-members.ts";
import { checkPart, gunzipPart, gzipMember, salvageLines } from "../../src/recording/format/part-codec.ts";
import { eventBytes, eventLine, FORMAT_VERSION, parseEventLine, type RecordingEvent } from "../../src/recording/format/recording-event.ts";
import { readRecording } from "../../src/recording/format/recording-reader.ts";

const FIXTURES = join(import.meta.dir, "..", "recording", "fixtures");
const output = (events: RecordingEvent[]) => Buffer.concat(events.filter((e) => e.event === "print").map((e) => eventBytes(e)));

/** What the agent's main thread hands the encoder for these chunks (batches of `batchBytes`), and the batch count. */
function recorded(chunks: ["print" | "stdin", Uint8Array][], batchBytes = 64 * 1024): { raw: Buffer; batches: number; reused: number } {
  const out: Buffer[] = [];
  let reused = 0;
  const seen = new Set<ArrayBuffer>();
  let rec: SessionRecording;
  rec = new SessionRecording("s", "node", {
    post: (m) => {
      out.push(Buffer.from(Buffer.from(m.buf, 0, m.len))); // a copy: the buffer goes back for reuse
      if (seen.has(m.buf)) reused++;
      seen.add(m.buf);
      queueMicrotask(() => rec.encoded(m.len, m.buf));
    },
    end: (_sid, endLine) => void out.push(Buffer.from(endLine)),
  }, batchBytes, true);
  rec.line('{"event":"session.start","ms":0,"version":2}\n');
  chunks.forEach(([k, c], i) => {
    if (k === "print") rec.output(c);
    else rec.input(c);
    if (i === 1) rec.resize(120, 40);
  });
  rec.end({ code: 0 });
  return { raw: Buffer.concat(out), batches: out.length - 1, reused };
}

const random = (n: number) => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(b.subarray(i, Math.min(n, i + 65536)));
  return b;
};

describe("format version 2", () => {
  const chunks: ["print" | "stdin", Uint8Array][] = [
    ["print", Buffer.from("prompt$ ")],
    ["stdin", Buffer.from("l")],
    ["print", Uint8Array.from([0x00, 0x0a, 0x0a, 0xff, 0x7b, 0x22, 0x5c])], // NUL, newlines, invalid UTF-8, {"\
    ["print", Buffer.from("é").subarray(0, 1)],
    ["print", random(100_000)], // larger than a batch: a batch of its own
    ["print", Buffer.from(`{"event":"print","ms":1,"n":3}\n`.repeat(2000))], // output that looks like a frame head
    ["print", new Uint8Array(0)],
  ];
  const { raw } = recorded(chunks);
  const events = walkAll(raw);

  test("every chunk comes back byte for byte, in order; all output is frames, never base64", () => {
    const w = walkEvents(raw);
    expect(w.error).toBeUndefined();
    expect(w.end).toBe(raw.length);
    const bytesEvents = events.filter((e) => e.event === "print" || e.event === "stdin");
    const nonEmpty = chunks.filter(([, c]) => c.length > 0);
    expect(bytesEvents.map((e) => Buffer.from(eventBytes(e)))).toEqual(nonEmpty.map(([, c]) => Buffer.from(c)));
    expect(bytesEvents.map((e) => e.event)).toEqual(nonEmpty.map(([k]) => k));
    expect(bytesEvents.every((e) => e.raw !== undefined && e.n === e.raw.length && e.b64 === undefined && e.data === undefined)).toBe(true);
    expect(events.find((e) => e.event === "resize")).toMatchObject({ cols: 120, rows: 40 });
    expect(events.at(-1)).toMatchObject({ event: "session.end", exit_code: 0 });
    expect(raw.length).toBeLessThan(nonEmpty.reduce((n, [, c]) => n + c.length, 0) + 1000); // a head line per chunk, nothing more
  });

  test("batch buffers go back to the session and are reused", () => {
    const many = Array.from({ length: 200 }, (_, i): ["print", Uint8Array] => ["print", Buffer.alloc(4000, 65 + (i % 26))]);
    const r = recorded(many, 16 * 1024);
    expect(r.batches).toBeGreaterThan(40);
    expect(output(walkAll(r.raw))).toEqual(Buffer.concat(many.map(([, c]) => c)));
  });

  test("the part check, the reader and salvage take frames; play --format json lines are plain JSON", () => {
    const part = Buffer.concat([gzipMember(raw.subarray(0, 60)), gzipMember(raw.subarray(60))]);
    // Members are cut at event boundaries by the encoder; one cut mid-event is caught.
    expect(checkPart(part)).toMatchObject({ ok: false, reason: expect.stringMatching(/cut short|no newline/) });
    const whole = gzipMember(raw);
    expect(checkPart(whole)).toMatchObject({ ok: true, events: events.length, lastMs: events.at(-1)!.ms });
    const rec = readRecording(whole);
    expect(rec.truncated).toBeUndefined();
    expect(output(rec.events)).toEqual(output(events));
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
    const i = raw.indexOf('"n":100000');
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

describe("stored members", () => {
  for (const n of [0, 1, 65535, 65536, 200_000]) {
    test(`${n} bytes: any gzip reader inflates them, and the member says its size`, () => {
      const raw = random(n);
      const m = storedMember(raw);
      expect(splitMembers(m)?.map((x) => x.length)).toEqual([m.length]);
      expect(Buffer.from(Bun.gunzipSync(m as Uint8Array<ArrayBuffer>))).toEqual(Buffer.from(raw));
      expect(gunzipSync(m)).toEqual(Buffer.from(raw));
      const bad = Uint8Array.from(m);
      if (n > 0) {
        bad[m.length - 9] = bad[m.length - 9]! ^ 1; // the last byte of output: the CRC catches it
        expect(() => gunzipSync(bad)).toThrow();
      }
    });
  }
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

test("node-sync: output waits while the auth service is far behind, and goes on once it catches up", async () => {
  const rec = new SessionRecording("s", "sync", { post: () => {}, end: () => {} }, 64 * 1024, false);
  expect(rec.output(Buffer.from("a"))).toBeUndefined();
  rec.upstream(100 * 1024 * 1024);
  const wait = rec.output(Buffer.from("b"));
  expect(wait).toBeInstanceOf(Promise);
  let resumed = false;
  void wait!.then(() => (resumed = true));
  rec.upstream(40 * 1024 * 1024); // still above the low-water mark
  await Bun.sleep(0);
  expect(resumed).toBe(false);
  rec.upstream(0);
  await wait;
  expect(rec.output(Buffer.from("c"))).toBeUndefined();
});
