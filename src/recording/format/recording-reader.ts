// Reads a whole recording (.ndjson.gz bytes, format version 1 or 2) into events. A download cut short, or a
// damaged file, gives the events up to the damage and says where the recording ends.
import { constants, gunzipSync } from "node:zlib";
import { formatClock } from "./clock.ts";
import { gunzipPart } from "./part-codec.ts";
import { walkEvents } from "./event-stream.ts";
import type { RecordingEvent, SessionEndEvent, SessionStartEvent } from "./recording-event.ts";

export interface LoadedRecording {
  events: RecordingEvent[];
  start?: SessionStartEvent;
  end?: SessionEndEvent;
  durationMs: number;
  /** Set when the bytes end before the recording does: where and why. */
  truncated?: string;
}

export function readRecording(bytes: Uint8Array): LoadedRecording {
  let raw: Buffer;
  let damage: string | undefined;
  try {
    raw = gunzipPart(bytes);
  } catch (e) {
    damage = `the compressed data is cut short or damaged (${(e as Error).message})`;
    try {
      raw = gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH });
    } catch {
      raw = Buffer.alloc(0);
    }
  }
  const events: RecordingEvent[] = [];
  const w = walkEvents(raw, { attach: true, visit: (e) => void events.push(e) });
  if (w.error) damage = w.cut ? (damage ?? "the last line is cut short") : `line ${events.length + 1} is damaged (${w.error.replace(/^line \d+: /, "")})`;
  const first = events[0]?.event === "session.start" ? (events[0] as SessionStartEvent) : undefined;
  const last = events.at(-1)?.event === "session.end" ? (events.at(-1) as SessionEndEvent) : undefined;
  const durationMs = events.reduce((m, e) => Math.max(m, e.ms), 0);
  if (!damage && events.length > 0 && !last) damage = "it has no session.end event";
  const out: LoadedRecording = { events, start: first, end: last, durationMs };
  if (damage || events.length === 0) {
    out.truncated = `recording ends early at ${formatClock(durationMs)} after ${events.length} events: ${damage ?? "it is empty"}`;
  }
  return out;
}
