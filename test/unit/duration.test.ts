import { describe, expect, test } from "bun:test";
import { formatDuration, ms, parseDuration } from "../../src/core/duration.ts";

describe("parseDuration", () => {
  const good: [string, number][] = [
    ["0", 0],
    ["0s", 0],
    ["500ms", 500],
    ["90s", 90_000],
    ["10m", 600_000],
    ["10h", 36_000_000],
    ["1h30m", 5_400_000],
    ["1.5h", 5_400_000],
    ["1h1m1s1ms", 3_661_001],
    [".5s", 500],
    ["2m2m", 240_000],
    ["1.0005s", 1001],
  ];
  test.each(good)("%p → %p ms", (s, want) => {
    expect(parseDuration(s)).toBe(ms(want));
  });

  const bad: [string, string][] = [
    ["", 'bad duration "": empty'],
    ["10x", 'bad duration "10x": unknown unit "x" (use ms, s, m or h)'],
    ["1d", 'bad duration "1d": unknown unit "d" (use ms, s, m or h)'],
    ["5ns", 'bad duration "5ns": unknown unit "ns" (use ms, s, m or h)'],
    ["10", 'bad duration "10": missing unit after "10" (use ms, s, m or h)'],
    ["1h30", 'bad duration "1h30": missing unit after "30" (use ms, s, m or h)'],
    ["-5s", 'bad duration "-5s": must not be negative'],
    ["h", 'bad duration "h": expected a number at "h"'],
    ["1h 30m", 'bad duration "1h 30m": unknown unit "h " (use ms, s, m or h)'],
    ["1e3s", 'bad duration "1e3s": unknown unit "e" (use ms, s, m or h)'],
    ["99999999999999999h", 'bad duration "99999999999999999h": too large'],
  ];
  test.each(bad)("%p is refused", (s, message) => {
    expect(() => parseDuration(s)).toThrow(new Error(message));
  });
});

describe("formatDuration", () => {
  const cases: [number, string][] = [
    [0, "0s"],
    [500, "500ms"],
    [1500, "1s500ms"],
    [90_000, "1m30s"],
    [3_600_000, "1h"],
    [5_400_000, "1h30m"],
    [28_800_000, "8h"],
    [90_061_001, "25h1m1s1ms"],
  ];
  test.each(cases)("%p → %p and back", (n, want) => {
    expect(formatDuration(ms(n))).toBe(want);
    expect(parseDuration(want)).toBe(ms(n));
  });
});
