// RFC 3339 timestamps with a time zone ("2026-12-01T22:27:00Z"): strict parse and compact format.
// Impossible calendar dates (Feb 30, hour 24) are refused instead of rolled over.

const _RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Parses an RFC 3339 timestamp; returns undefined when it is not one. */
export function parseRfc3339(s: string): Date | undefined {
  const m = _RFC3339.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const local = Date.UTC(y, mo - 1, d, h, mi, sec);
  const check = new Date(local);
  const sane =
    check.getUTCFullYear() === y && check.getUTCMonth() === mo - 1 && check.getUTCDate() === d &&
    check.getUTCHours() === h && check.getUTCMinutes() === mi && check.getUTCSeconds() === sec;
  if (!sane) return undefined;
  const offH = Number(m[10] ?? 0);
  const offM = Number(m[11] ?? 0);
  if (offH > 23 || offM > 59) return undefined;
  const sign = m[9] === "-" ? -1 : 1;
  const frac = m[7] ? Math.floor(Number(m[7]) * 1000) : 0;
  return new Date(local + frac - sign * (offH * 60 + offM) * 60_000);
}

/** Formats in UTC, without milliseconds when they are zero: "2026-12-01T22:27:00Z". */
export function formatRfc3339(d: Date): string {
  return d.toISOString().replace(".000Z", "Z");
}
