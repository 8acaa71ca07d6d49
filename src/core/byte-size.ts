// Byte sizes as written in config ("1GiB", "500MB", "1024"): decimal and binary units.
// Parsing only; callers decide what a size means.

const _UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};
const _SIZE = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/;

/** Parses "1GiB", "500MB", "10KiB" or a plain number of bytes; units are case-insensitive. */
export function parseByteSize(s: string): number {
  const shown = JSON.stringify(s.length > 40 ? s.slice(0, 40) + "…" : s);
  const m = _SIZE.exec(s.trim());
  if (!m) throw new Error(`bad byte size ${shown}: expected a number with an optional unit, like "1GiB" or "500MB"`);
  const [, num, unit] = m as unknown as [string, string, string];
  const scale = unit === "" ? 1 : _UNITS[unit.toLowerCase()];
  if (scale === undefined) {
    throw new Error(`bad byte size ${shown}: unknown unit ${JSON.stringify(unit)} (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)`);
  }
  const bytes = Math.round(Number(num) * scale);
  if (!Number.isSafeInteger(bytes)) throw new Error(`bad byte size ${shown}: too large`);
  return bytes;
}

/** Formats with the largest binary unit that divides evenly: 1073741824 → "1GiB". */
export function formatByteSize(n: number): string {
  for (const unit of ["TiB", "GiB", "MiB", "KiB"]) {
    const scale = _UNITS[unit.toLowerCase()]!;
    if (n >= scale && n % scale === 0) return `${n / scale}${unit}`;
  }
  return `${n}B`;
}
