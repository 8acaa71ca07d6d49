// Tests for the SSH wire reader/writer: RFC 4251 encodings, round trips, and refusal of
// short, oversized and malformed input with WireError only.

import { describe, expect, test } from "bun:test";
import { WireError, WireReader, WireWriter } from "../../src/core/ssh-wire.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "hex"));

describe("WireWriter encodings (RFC 4251 §5 examples)", () => {
  const cases: [string, (w: WireWriter) => WireWriter, string][] = [
    ["u8", (w) => w.u8(0xab), "ab"],
    ["u32", (w) => w.u32(0x29b7f4aa), "29b7f4aa"],
    ["u64", (w) => w.u64(0x0102030405060708n), "0102030405060708"],
    ["u64 max", (w) => w.u64(0xffffffffffffffffn), "ffffffffffffffff"],
    ["string", (w) => w.text("testing"), "00000007 74657374696e67"],
    ["empty string", (w) => w.bytes(new Uint8Array(0)), "00000000"],
    ["mpint 0", (w) => w.mpint(new Uint8Array(0)), "00000000"],
    ["mpint 0 with zero bytes", (w) => w.mpint(unhex("0000")), "00000000"],
    ["mpint 9a378f9b2e332a7", (w) => w.mpint(unhex("09a378f9b2e332a7")), "00000008 09a378f9b2e332a7"],
    ["mpint 80 gets sign byte", (w) => w.mpint(unhex("80")), "00000002 0080"],
    ["mpint strips leading zeros", (w) => w.mpint(unhex("000001")), "00000001 01"],
    ["raw", (w) => w.raw(unhex("dead")), "dead"],
    ["chain", (w) => w.u8(1).u32(2).text("a"), "01 00000002 00000001 61"],
  ];
  for (const [name, write, want] of cases) {
    test(name, () => expect(hex(write(new WireWriter()).finish())).toBe(want.replace(/\s+/g, "")));
  }

  const bad: [string, (w: WireWriter) => unknown][] = [
    ["u8 256", (w) => w.u8(256)],
    ["u8 negative", (w) => w.u8(-1)],
    ["u32 too big", (w) => w.u32(2 ** 32)],
    ["u32 fraction", (w) => w.u32(1.5)],
    ["u64 negative", (w) => w.u64(-1n)],
    ["u64 too big", (w) => w.u64(2n ** 64n)],
  ];
  for (const [name, write] of bad) {
    test(`refuses ${name}`, () => expect(() => write(new WireWriter())).toThrow(WireError));
  }
});

describe("WireReader", () => {
  test("round-trips every field type", () => {
    const buf = new WireWriter()
      .u8(7).u32(0xffffffff).u64(2n ** 63n).bytes(unhex("00ff")).text("héllo").mpint(unhex("ff01")).raw(unhex("cafe"))
      .finish();
    const r = new WireReader(buf);
    expect(r.u8()).toBe(7);
    expect(r.u32()).toBe(0xffffffff);
    expect(r.u64()).toBe(2n ** 63n);
    expect(hex(r.bytes())).toBe("00ff");
    expect(r.text()).toBe("héllo");
    expect(hex(r.mpint())).toBe("ff01");
    expect(r.done).toBe(false);
    expect(r.offset).toBe(buf.length - 2);
    expect(hex(r.rest())).toBe("cafe");
    expect(r.done).toBe(true);
  });

  test("reads from a subarray with a non-zero byteOffset", () => {
    const outer = unhex("ffffffff 00000002 6869");
    const r = new WireReader(outer.subarray(4));
    expect(r.text()).toBe("hi");
    expect(r.done).toBe(true);
  });

  test("mpint strips the sign byte and leading zeros", () => {
    expect(hex(new WireReader(unhex("00000002 0080")).mpint())).toBe("80");
    expect(hex(new WireReader(unhex("00000003 000001")).mpint())).toBe("01");
    expect(new WireReader(unhex("00000000")).mpint().length).toBe(0);
  });

  const bad: [string, string, (r: WireReader) => unknown][] = [
    ["u8 on empty", "", (r) => r.u8()],
    ["u32 short", "000000", (r) => r.u32()],
    ["u64 short", "00000000000000", (r) => r.u64()],
    ["string length beyond data", "00000005 61626364", (r) => r.bytes()],
    ["string length 2^32-1", "ffffffff 00", (r) => r.bytes()],
    ["string missing length", "0000", (r) => r.text()],
    ["invalid UTF-8", "00000002 c328", (r) => r.text()],
    ["lone surrogate bytes", "00000003 eda080", (r) => r.text()],
    ["negative mpint", "00000001 80", (r) => r.mpint()],
    ["second read past end", "00000000", (r) => (r.bytes(), r.u8())],
  ];
  for (const [name, input, read] of bad) {
    test(`throws WireError: ${name}`, () => expect(() => read(new WireReader(unhex(input)))).toThrow(WireError));
  }

  test("every truncation of a record throws only WireError", () => {
    const full = new WireWriter().u8(1).u32(2).u64(3n).text("four").mpint(unhex("05")).finish();
    for (let len = 0; len < full.length; len++) {
      const r = new WireReader(full.subarray(0, len));
      expect(() => {
        r.u8();
        r.u32();
        r.u64();
        r.text();
        r.mpint();
      }).toThrow(WireError);
    }
  });
});
