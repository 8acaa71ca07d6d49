// Playback time: where each event sits on the player's clock once --from, --speed and
// --skip-idle are applied, and an index of output positions for seeking without
// walking the recording from its start. Pure functions over the event list.
import type { RecordingEvent } from "./recording-event.ts";

export interface Timing {
  fromMs: number;
  /** Recording ms → player ms (idle gaps cut to skipIdleMs, from fromMs). */
  displayMs(ms: number): number;
}

/** Recording time → display time, with every gap between events longer than skipIdleMs cut to it. */
export function timing(events: readonly { ms: number }[], opts: { fromMs?: number; skipIdleMs?: number }): Timing {
  const fromMs = opts.fromMs ?? 0;
  const skip = opts.skipIdleMs;
  // cut[i]: total idle time removed before events[i]
  const times: number[] = [];
  const cuts: number[] = [];
  let removed = 0;
  let prev = fromMs;
  for (const e of events) {
    if (e.ms < fromMs) continue;
    if (skip !== undefined && e.ms - prev > skip) removed += e.ms - prev - skip;
    times.push(e.ms);
    cuts.push(removed);
    prev = e.ms;
  }
  return {
    fromMs,
    displayMs(ms: number) {
      const i = lastAtOrBefore(times, ms);
      const cut = i < 0 ? 0 : cuts[i]! + (skip !== undefined && ms - times[i]! > skip ? ms - times[i]! - skip : 0);
      return Math.max(0, ms - fromMs - cut);
    },
  };
}

/** Index of the last element of a sorted array that is <= x, or -1. */
export function lastAtOrBefore(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= x) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}

export function eventTimes(events: readonly RecordingEvent[]): number[] {
  // Events are in order as recorded; a clock that stepped back is flattened.
  const out: number[] = [];
  let max = 0;
  for (const e of events) out.push((max = Math.max(max, e.ms)));
  return out;
}

/** Seek target clamped to the recording: current ± delta. */
export function seekTarget(current: number, deltaMs: number, durationMs: number): number {
  return Math.min(Math.max(0, current + deltaMs), durationMs);
}

const SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16];

/** The next speed step up (+1) or down (-1). */
export function nextSpeed(speed: number, dir: 1 | -1): number {
  const i = SPEEDS.findIndex((s) => s >= speed);
  const at = i === -1 ? SPEEDS.length - 1 : i;
  return SPEEDS[Math.min(Math.max(0, at + dir), SPEEDS.length - 1)]!;
}
