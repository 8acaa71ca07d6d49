// Go-style durations ("90s", "1h30m", "500ms", "1.5h") held as branded milliseconds.
// Supported units are ms, s, m and h; days and sub-millisecond units are refused.

export type Duration = number & { readonly __duration: true };

const _UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const _PART = /^(\d+\.?\d*|\.\d+)([^\d.]*)/;

/** Brands a number of milliseconds as a Duration. */
export function ms(n: number): Duration {
  return n as Duration;
}

/** Parses a Go-style duration; fractions are rounded to the nearest millisecond. */
export function parseDuration(s: string): Duration {
  const bad = (why: string) => new Error(`bad duration ${_quote(s)}: ${why}`);
  if (s === "") throw bad("empty");
  if (s.startsWith("-")) throw bad("must not be negative");
  if (s === "0") return ms(0);
  let rest = s;
  let total = 0;
  while (rest !== "") {
    const m = _PART.exec(rest);
    if (!m) throw bad(`expected a number at ${_quote(rest)}`);
    const [whole, num, unit] = m as unknown as [string, string, string];
    if (unit === "") throw bad(`missing unit after "${num}" (use ms, s, m or h)`);
    const scale = _UNITS[unit];
    if (scale === undefined) throw bad(`unknown unit ${_quote(unit)} (use ms, s, m or h)`);
    total += Number(num) * scale;
    rest = rest.slice(whole.length);
  }
  if (!Number.isSafeInteger(Math.round(total))) throw bad("too large");
  return ms(Math.round(total));
}

/** Formats like Go but without zero parts: 5400000 → "1h30m", 500 → "500ms", 0 → "0s". */
export function formatDuration(d: Duration): string {
  if (d < 0) return "-" + formatDuration(ms(-d));
  let rest = Math.round(d);
  if (rest === 0) return "0s";
  let out = "";
  for (const [unit, scale] of [["h", 3_600_000], ["m", 60_000], ["s", 1000], ["ms", 1]] as const) {
    const n = Math.floor(rest / scale);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * scale;
  }
  return out;
}

function _quote(s: string): string {
  return JSON.stringify(s.length > 40 ? s.slice(0, 40) + "…" : s);
}
