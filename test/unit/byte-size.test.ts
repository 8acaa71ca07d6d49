import { describe, expect, test } from "bun:test";
import { formatByteSize, parseByteSize } from "../../src/core/byte-size.ts";

describe("parseByteSize", () => {
  const good: [string, number][] = [
    ["1024", 1024],
    ["0", 0],
    ["10B", 10],
    ["10KiB", 10_240],
    ["500MB", 500_000_000],
    ["1GiB", 1_073_741_824],
    ["1gib", 1_073_741_824],
    ["1.5KiB", 1536],
    ["2 TB", 2e12],
    ["1TiB", 2 ** 40],
  ];
  test.each(good)("%p → %p", (s, want) => {
    expect(parseByteSize(s)).toBe(want);
  });

  const unitHelp = "(use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)";
  const bad: [string, string][] = [
    ["", 'bad byte size "": expected a number with an optional unit, like "1GiB" or "500MB"'],
    ["GiB", 'bad byte size "GiB": expected a number with an optional unit, like "1GiB" or "500MB"'],
    ["-1GiB", 'bad byte size "-1GiB": expected a number with an optional unit, like "1GiB" or "500MB"'],
    ["10XB", `bad byte size "10XB": unknown unit "XB" ${unitHelp}`],
    ["1G", `bad byte size "1G": unknown unit "G" ${unitHelp}`],
    ["99999999999TiB", 'bad byte size "99999999999TiB": too large'],
  ];
  test.each(bad)("%p is refused", (s, message) => {
    expect(() => parseByteSize(s)).toThrow(new Error(message));
  });
});

test.each([
  [1_073_741_824, "1GiB"],
  [1536, "1536B"],
  [10_240, "10KiB"],
  [0, "0B"],
] as [number, string][])("formatByteSize(%p) = %p", (n, want) => {
  expect(formatByteSize(n)).toBe(want);
  expect(parseByteSize(want)).toBe(n);
});
