// Tests for the source-address CIDR matcher: parsing tables, containment tables, and an
// exhaustive-ish IPv4 comparison against a plain integer reference implementation.

import { describe, expect, test } from "bun:test";
import { CidrError, cidrContains, parseCidr, parseCidrList, parseIp } from "../../src/core/cidr.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("parseIp", () => {
  const good: [string, string][] = [
    ["0.0.0.0", "00000000"],
    ["255.255.255.255", "ffffffff"],
    ["10.1.2.3", "0a010203"],
    ["::", "0".repeat(32)],
    ["::1", "0".repeat(31) + "1"],
    ["1::", "0001" + "0".repeat(28)],
    ["2001:db8::8:800:200c:417a", "20010db8000000000008080020 0c417a".replace(" ", "")],
    ["2001:DB8:0:0:8:800:200C:417A", "20010db80000000000080800200c417a"],
    ["::ffff:192.0.2.1", "00000000000000000000ffffc0000201"],
    ["64:ff9b::192.0.2.33", "0064ff9b0000000000000000c0000221"],
    ["1:2:3:4:5:6:7::", "00010002000300040005000600070000"],
    ["::2:3:4:5:6:7:8", "00000002000300040005000600070008"],
    ["1:2:3:4:5:6:1.2.3.4", "00010002000300040005000601020304"],
  ];
  for (const [text, want] of good) test(`parses ${text}`, () => expect(hex(parseIp(text))).toBe(want));

  const bad = [
    "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-4", "1.2.3.4 ", " 1.2.3.4", "a.b.c.d", "1..2.3",
    ":::", "1:::2", "1::2::3", ":1::", "1::2:", "12345::", "g::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8::", "1.2.3.4::", "::1.2.3.4:5", "::ffff:1.2.3", "fe80::1%eth0", "[::1]", "x".repeat(100),
  ];
  for (const text of bad) test(`refuses ${JSON.stringify(text)}`, () => expect(() => parseIp(text)).toThrow(CidrError));
});

describe("parseCidr / parseCidrList", () => {
  const good: [string, 4 | 6, number][] = [
    ["10.0.0.0/8", 4, 8],
    ["1.2.3.4", 4, 32],
    ["0.0.0.0/0", 4, 0],
    ["2001:db8::/32", 6, 32],
    ["::1", 6, 128],
    ["::/0", 6, 0],
    ["::ffff:0:0/96", 6, 96],
  ];
  for (const [text, family, prefix] of good) {
    test(`parses ${text}`, () => expect(parseCidr(text)).toMatchObject({ family, prefix }));
  }

  const bad = ["10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/08", "10.0.0.0/-1", "::1/129", "2001:db8::1/32", "/8", "10.0.0.0/8/8"];
  for (const text of bad) test(`refuses ${text}`, () => expect(() => parseCidr(text)).toThrow(CidrError));

  test("list splits on commas", () => {
    expect(parseCidrList("10.0.0.0/8,::1,192.168.1.0/24").map((c) => c.prefix)).toEqual([8, 128, 24]);
  });
  for (const text of ["", "10.0.0.0/8,", ",::1", "10.0.0.0/8, 10.1.0.0/16", "a".repeat(9000)]) {
    test(`list refuses ${JSON.stringify(text.slice(0, 30))}`, () => expect(() => parseCidrList(text)).toThrow(CidrError));
  }
});

describe("cidrContains", () => {
  const cases: [string, string, boolean][] = [
    ["10.0.0.0/8", "10.255.1.2", true],
    ["10.0.0.0/8", "11.0.0.0", false],
    ["10.0.0.0/8", "::ffff:10.1.2.3", true],
    ["10.0.0.0/8", "::ffff:a01:203", true],
    ["10.0.0.0/8", "::ffff:11.1.2.3", false],
    ["127.0.0.1", "::ffff:127.0.0.1", true],
    ["127.0.0.1", "127.0.0.2", false],
    ["0.0.0.0/0", "203.0.113.9", true],
    ["0.0.0.0/0", "2001:db8::1", false],
    ["192.168.1.128/25", "192.168.1.127", false],
    ["192.168.1.128/25", "192.168.1.255", true],
    ["2001:db8::/32", "2001:db8:ffff::1", true],
    ["2001:db8::/32", "2001:db9::1", false],
    ["2001:db8::/33", "2001:db8:8000::", false],
    ["::1", "::1", true],
    ["::1", "127.0.0.1", false],
    ["::/0", "10.0.0.1", false],
    ["::/0", "::ffff:10.0.0.1", false],
    ["fe80::/10", "fe80::1%eth0", true],
    ["::ffff:0:0/96", "::ffff:1.2.3.4", false],
  ];
  for (const [cidr, addr, want] of cases) {
    test(`${cidr} ${want ? "contains" : "excludes"} ${addr}`, () => expect(cidrContains(parseCidr(cidr), addr)).toBe(want));
  }

  test("throws on a bad address", () => {
    expect(() => cidrContains(parseCidr("10.0.0.0/8"), "10.0.0")).toThrow(CidrError);
    expect(() => cidrContains(parseCidr("10.0.0.0/8"), "10.0.0.1%x")).toThrow(CidrError);
  });

  test("IPv4 matches an integer reference for every prefix length", () => {
    let seed = 12345;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const dotted = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
    for (let prefix = 0; prefix <= 32; prefix++) {
      const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      for (let i = 0; i < 60; i++) {
        const net = (rand() & mask) >>> 0;
        // Half the addresses share the network's prefix, half are random.
        const addr = i % 2 ? ((net | (rand() & ~mask)) >>> 0) : rand();
        const want = ((addr & mask) >>> 0) === net;
        expect(cidrContains(parseCidr(`${dotted(net)}/${prefix}`), dotted(addr))).toBe(want);
      }
    }
  });
});
