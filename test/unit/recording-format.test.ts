// The recording format: byte-exact event encoding, part checks and salvage of a part
// cut short. Tables of cases, one loop each.
import { describe, expect, test } from "bun:test";
import { gunzipSync, gzipSync } from "node:zlib";
import { sizeMember, splitMembers } from "../../src/recording/format/gzip-members.ts";
import { checkPart, gunzipPart, gzipMember, PART_RAW_MAX, salvageLines } from "../../src/recording/format/part-codec.ts";
import { bytesLine, eventBytes, parseEventLine } from "../../src/recording/format/recording-event.ts";
import { isSessionId } from "../../src/core/session-id.ts";

const enc = (s: string) => new TextEncoder().encode(s);

describe("print events keep bytes exact", () => {
  const cases: [string, Uint8Array, "data" | "b64"][] = [
    ["ascii with CRLF and escapes", enc("ls\r\n\x1b[1;34mdir\x1b[0m\r\n"), "data"],
    ["UTF-8", enc("café ✓ 日本"), "data"],
    ["a BOM at the start stays", new Uint8Array([0xef, 0xbb, 0xbf, 0x41]), "data"],
    ["invalid UTF-8", new Uint8Array([0x61, 0xff, 0xfe, 0x62]), "b64"],
    ["a multi-byte character cut in half", enc("é").subarray(0, 1), "b64"],
    ["NUL and BEL", new Uint8Array([0x00, 0x07, 0x41]), "b64"],
    ["large output goes straight to base64", new Uint8Array(20_000).fill(0x41), "b64"],
    ["empty", new Uint8Array(0), "data"],
  ];
  for (const [name, bytes, field] of cases) {
    test(name, () => {
      const line = bytesLine("print", 12, bytes);
      expect(line.endsWith("\n")).toBe(true);
      const e = parseEventLine(line.slice(0, -1)) as { ms: number; data?: string; b64?: string };
      expect(e.ms).toBe(12);
      expect(field in e).toBe(true);
      expect(eventBytes(e)).toEqual(bytes);
    });
  }
});

describe("event lines are checked", () => {
  const bad: [string, RegExp][] = [
    ["not json", /not valid JSON/],
    ["[1,2]", /not a JSON object/],
    ['{"ms":1}', /no "event" field/],
    ['{"event":"print","ms":-1,"data":"x"}', /"ms" must be a non-negative number/],
    ['{"event":"print","ms":1}', /needs "data" text, "b64" base64 or "n" bytes/],
    ['{"event":"print","ms":1,"n":-1}', /"n" must be a byte count/],
    ['{"event":"stdin","ms":1,"n":1.5}', /"n" must be a byte count/],
    ['{"event":"resize","ms":1,"cols":"80","rows":24}', /integer "cols" and "rows"/],
    ['{"event":"exec","ms":0}', /needs "command"/],
  ];
  for (const [line, re] of bad) test(line, () => expect(() => parseEventLine(line)).toThrow(re));
  test("unknown events are kept", () => expect(parseEventLine('{"event":"future","ms":3}').event as string).toBe("future"));
});

describe("parts", () => {
  const lines = '{"event":"session.start","ms":0}\n{"event":"print","ms":5,"data":"hi"}\n';
  test("a valid part, also as several gzip members", () => {
    expect(checkPart(gzipMember(lines))).toMatchObject({ ok: true, events: 2, lastMs: 5 });
    const two = Buffer.concat([gzipMember(lines), gzipMember('{"event":"print","ms":9,"data":"x"}\n')]);
    expect(checkPart(two)).toMatchObject({ ok: true, events: 3, lastMs: 9 });
  });
  const bad: [string, Uint8Array, RegExp][] = [
    ["not gzip", enc("plain text"), /not valid gzip/],
    ["cut short", gzipMember(lines).subarray(0, 20), /not valid gzip/],
    ["empty", gzipSync(""), /empty part/],
    ["last line without newline", gzipSync('{"event":"print","ms":1,"data":"x"}'), /no newline/],
    ["a line that is not an event", gzipSync(lines + "{oops}\n"), /line 3: not valid JSON/],
    ["a long line with a stray quote", gzipSync(`{"event":"print","ms":1,"b64":"${"A".repeat(8000)}"x"}\n`), /line 1: not valid JSON/],
    ["a long line without its closing brace", gzipSync(`{"event":"print","ms":1,"b64":"${"A".repeat(8000)}"\n`), /line 1: not valid JSON/],
    ["a long line of another shape", gzipSync(`{"ms":1,"pad":"${"A".repeat(8000)}"}\n`), /line 1: no "event" field/],
    ["a frame cut short", gzipSync(lines + '{"event":"print","ms":6,"n":10}\nabc'), /line 3: its 10 bytes are cut short/],
    ["a frame longer than it says", gzipSync(lines + '{"event":"print","ms":6,"n":2}\nabc\n'), /line 3: its 2 bytes are not followed by a newline/],
    ["a frame count past the end", gzipSync('{"event":"print","ms":6,"n":9007199254740991}\nab\n'), /line 1: its 9007199254740991 bytes are cut short/],
  ];
  for (const [name, bytes, re] of bad) {
    test(name, () => {
      const r = checkPart(bytes);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.reason).toMatch(re);
    });
  }
  test("long lines: bulk base64 and text with escapes both pass", () => {
    const b64 = bytesLine("print", 7, new Uint8Array(50_000).fill(1));
    const text = `{"event":"print","ms":8,"data":${JSON.stringify("é\"\\\n".repeat(3000))}}\n`;
    expect(checkPart(gzipMember(b64 + text))).toMatchObject({ ok: true, events: 2, lastMs: 8 });
  });
  test("salvage keeps the whole lines of a part cut by a crash", () => {
    const big = Array.from({ length: 2000 }, (_, i) => `{"event":"print","ms":${i},"data":"line ${i}"}\n`).join("");
    const whole = Buffer.concat([gzipMember(lines), gzipMember(big)]);
    const s = salvageLines(whole.subarray(0, whole.length - 100));
    expect(s.complete).toBe(false);
    expect(s.events).toBeGreaterThan(2);
    expect(s.bytes.at(-1)).toBe(0x0a);
    expect(checkPart(gzipMember(s.bytes)).ok).toBe(true);
    expect(salvageLines(whole)).toMatchObject({ complete: true, events: 2002 });
  });
  test("incompressible output is stored, not squeezed", () => {
    const random = crypto.getRandomValues(new Uint8Array(400_000));
    const member = gzipMember(Buffer.from(random).toString("latin1"));
    expect(checkPart(member).ok).toBe(false); // not event lines, but valid gzip
    expect(Bun.gunzipSync(member as Uint8Array<ArrayBuffer>).length).toBe(Buffer.from(Buffer.from(random).toString("latin1")).length);
  });
});

test("session ids: UUIDs only", () => {
  const cases: [string, boolean][] = [
    ["0b7d9c52-3f5e-4c1a-9a57-2d8e6f3b1c90", true],
    ["0B7D9C52-3F5E-4C1A-9A57-2D8E6F3B1C90", false],
    ["../0b7d9c52-3f5e-4c1a-9a57-2d8e6f3b1c90", false],
    ["0b7d9c52-3f5e-4c1a-9a57-2d8e6f3b1c90/..", false],
    ["", false],
    ["x".repeat(36), false],
  ];
  for (const [s, ok] of cases) expect(isSessionId(s)).toBe(ok);
});

describe("sized gzip members", () => {
  test("each member says its size; a part splits without inflating and reads back", () => {
    const a = gzipMember('{"event":"print","ms":1,"data":"a"}\n');
    const b = gzipMember('{"event":"print","ms":2,"data":"b"}\n', 9);
    const both = Buffer.concat([a, b]);
    expect(splitMembers(both)?.map((m) => m.length)).toEqual([a.length, b.length]);
    expect(gunzipSync(both).toString()).toBe('{"event":"print","ms":1,"data":"a"}\n{"event":"print","ms":2,"data":"b"}\n');
    expect(gunzipPart(both).toString()).toBe(gunzipSync(both).toString());
  });
  test("plain gzip, or a cut member, falls back to zlib", () => {
    const plain = Buffer.concat([gzipSync("x\n"), gzipMember("y\n")]);
    expect(splitMembers(plain)).toBeUndefined();
    expect(gunzipPart(plain).toString()).toBe("x\ny\n");
    const cut = gzipMember("z\n".repeat(100)).subarray(0, 30);
    expect(splitMembers(cut)).toBeUndefined();
    expect(() => gunzipPart(cut)).toThrow();
  });
  test("a damaged byte inside a sized member is caught by its CRC", () => {
    const m = Buffer.from(gzipMember('{"event":"print","ms":1,"data":"hello world"}\n'));
    m[m.length - 9] = m[m.length - 9]! ^ 0xff;
    expect(checkPart(m).ok).toBe(false);
  });
});

describe("a part that inflates past what an agent writes (a gzip bomb) is refused before the memory is taken", () => {
  // 130 MiB of newlines: valid-looking events would not change the answer, the size does.
  const big = new Uint8Array(PART_RAW_MAX + (2 << 20)).fill(0x0a);
  const gz = Bun.gzipSync(big, { level: 9 });

  test("a sized member that declares more", () => {
    const r = checkPart(sizeMember(gz));
    expect(r).toEqual({ ok: false, reason: expect.stringContaining(`inflates to more than ${PART_RAW_MAX >> 20} MiB`) });
  });

  test("a sized member that declares less than it holds", () => {
    const lie = sizeMember(gz);
    new DataView(lie.buffer, lie.byteOffset).setUint32(lie.length - 4, 1000, true);
    const r = checkPart(lie);
    expect(r.ok).toBe(false);
    expect(r.ok || r.reason).toContain("not valid gzip");
  });

  test("plain gzip without sizes (zlib's path)", () => {
    const r = checkPart(gz);
    expect(r).toEqual({ ok: false, reason: expect.stringContaining(`inflates to more than ${PART_RAW_MAX >> 20} MiB`) });
  });

  test("members that add up to more, each within bounds", () => {
    const n = 40 << 20; // one version-2 frame of 40 MiB per member
    const head = Buffer.from(`{"event":"print","ms":1,"n":${n}}\n`);
    const frame = Buffer.concat([head, Buffer.alloc(n), Buffer.from("\n")]);
    const member = sizeMember(Bun.gzipSync(frame));
    expect(checkPart(member).ok).toBe(true);
    const r = checkPart(Buffer.concat([member, member, member, member]));
    expect(r).toEqual({ ok: false, reason: expect.stringContaining("inflates to more than") });
  });
});
