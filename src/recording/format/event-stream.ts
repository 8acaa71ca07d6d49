// Walks an inflated event stream byte by byte: newline-terminated JSON lines (format
// versions 1 and 2) and version 2's frames, a head line `{"event":"print","ms":M,"n":N}`
// followed by exactly N bytes and a newline. The frame's bytes are never parsed, only
// counted, so output of any kind costs a copy, not an encoding.
import { EventFormatError, parseEventLine, type RecordingEvent } from "./recording-event.ts";

export interface WalkResult {
  events: number;
  /** Bytes taken by whole, valid events from the start (where a salvage cuts). */
  end: number;
  last?: RecordingEvent;
  /** What is wrong at `end`, if the walk stopped before the last byte. */
  error?: string;
  /** True when the stream stopped in the middle of an event (cut short), not at a bad one. */
  cut?: boolean;
}

export interface WalkOptions {
  /** Decodes one line; defaults to UTF-8 then parseEventLine. Throws EventFormatError on a bad line. */
  line?: (raw: Uint8Array, start: number, end: number) => RecordingEvent;
  /** Attach each frame's bytes to its event as `raw` (a view of `raw`, not a copy). */
  attach?: boolean;
  /** Called with each event, in order. */
  visit?: (e: RecordingEvent) => void;
}

const utf8 = new TextDecoder();
const utf8Line = (raw: Uint8Array, start: number, end: number) => parseEventLine(utf8.decode(raw.subarray(start, end)));

export function walkEvents(raw: Uint8Array, opts: WalkOptions = {}): WalkResult {
  const parse = opts.line ?? utf8Line;
  const r: WalkResult = { events: 0, end: 0 };
  let at = 0;
  while (at < raw.length) {
    const nl = raw.indexOf(0x0a, at);
    if (nl === -1) return { ...r, error: "last line has no newline (part cut short)", cut: true };
    let e: RecordingEvent;
    try {
      e = parse(raw, at, nl);
    } catch (err) {
      if (!(err instanceof EventFormatError)) throw err;
      return { ...r, error: `line ${r.events + 1}: ${err.message}` };
    }
    let next = nl + 1;
    if ((e.event === "print" || e.event === "stdin") && e.n !== undefined && e.data === undefined && e.b64 === undefined) {
      const n = e.n;
      if (next + n >= raw.length) return { ...r, error: `line ${r.events + 1}: its ${n} bytes are cut short`, cut: true };
      if (raw[next + n] !== 0x0a) return { ...r, error: `line ${r.events + 1}: its ${n} bytes are not followed by a newline` };
      if (opts.attach) e.raw = raw.subarray(next, next + n);
      next += n + 1;
    }
    r.events++;
    r.last = e;
    r.end = next;
    opts.visit?.(e);
    at = next;
  }
  return r;
}
