// Recording positions as people read and write them: 1:02:03.4, 5:07, 90s, 1m30s.
import { parseDuration } from "../../core/duration.ts";

/** ms → "M:SS" or "H:MM:SS". */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** "1m30s", "90s", "1:30" or "1:02:03" → ms. */
export function parseClock(s: string): number {
  const clock = /^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$/.exec(s);
  if (clock) return Math.round(((Number(clock[1] ?? 0) * 60 + Number(clock[2])) * 60 + Number(clock[3])) * 1000);
  return parseDuration(s);
}
