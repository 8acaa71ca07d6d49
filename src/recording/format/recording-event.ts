// The recording's events: one JSON object per line.
//
// Output and input bytes are kept exact. Format version 1 stored a chunk that is valid
// UTF-8 without unusual control bytes as a JSON string in `data`, anything else as
// base64 in `b64`; version 2 (what the agent writes) stores every chunk as a frame: the
// line `{"event":"print","ms":M,"n":N}` followed by the N bytes themselves and a
// newline (event-stream.ts walks them), so output is neither a third larger nor
// encoded. Decoding any of them gives back the original bytes. `ms` is milliseconds since the
// session started.

/** The format version this code writes (session.start `version`); readers take 1 and 2. */
export const FORMAT_VERSION = 2;

export type RecordingEvent =
  | SessionStartEvent
  | BytesEvent<"print">
  | BytesEvent<"stdin">
  | { event: "resize"; ms: number; cols: number; rows: number }
  | { event: "exec"; ms: number; command: string }
  | SessionEndEvent;

/** Output or input: text in `data`, base64 in `b64` (version 1), or a frame's bytes in `raw` (version 2, `n` of them). */
export interface BytesEvent<E extends "print" | "stdin"> {
  event: E;
  ms: number;
  data?: string;
  b64?: string;
  n?: number;
  raw?: Uint8Array;
}

export interface SessionStartEvent {
  event: "session.start";
  ms: 0;
  version: 1 | 2;
  sid: string;
  time: string;
  server_id: string;
  user: string;
  login: string;
  kind: string;
  mode: string;
  term?: string;
  cols?: number;
  rows?: number;
  command?: string;
}

export interface SessionEndEvent {
  event: "session.end";
  ms: number;
  time: string;
  exit_code?: number;
  exit_signal?: string;
  interrupted?: boolean;
  reason?: string;
}

/** Chunks up to this size are checked for UTF-8; larger ones (bulk output) go straight to base64. */
const TEXT_CHECK_MAX = 16 * 1024;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();
// NUL..US except \t \n \r ESC, and DEL: escaped in JSON they cost more than base64.
const AWKWARD = /[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]/;

/** The JSON line (with its newline) of a print or stdin event, version 1: text in `data`, else base64 in `b64`. */
export function bytesLine(event: "print" | "stdin", ms: number, bytes: Uint8Array): string {
  const text = textLine(event, ms, bytes);
  if (text !== undefined) return text;
  return `{"event":"${event}","ms":${ms},"b64":"${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64")}"}\n`;
}

/** The `data` line of a chunk that reads as text (small, valid UTF-8, no odd control bytes); undefined otherwise. */
function textLine(event: "print" | "stdin", ms: number, bytes: Uint8Array): string | undefined {
  if (bytes.length > TEXT_CHECK_MAX) return undefined;
  const text = bytesAsText(bytes);
  return text === undefined ? undefined : `{"event":"${event}","ms":${ms},"data":${JSON.stringify(text)}}\n`;
}

/** The head line of a version-2 frame: N bytes and a newline follow it. */
export function frameHead(event: "print" | "stdin", ms: number, n: number): string {
  return `{"event":"${event}","ms":${ms},"n":${n}}\n`;
}

/**
 * One event as a self-contained JSON line: a frame's bytes become `data` or `b64` as
 * version 1 wrote them (`play --format json`, and lines the agent writes whole).
 */
export function eventLine(e: RecordingEvent): string {
  if ((e.event === "print" || e.event === "stdin") && e.raw) {
    const { raw, n: _n, ...rest } = e;
    const line = bytesLine(e.event, e.ms, raw);
    const extra = Object.keys(rest).filter((k) => k !== "event" && k !== "ms");
    if (extra.length === 0) return line;
    return JSON.stringify({ ...rest, ...JSON.parse(line) }) + "\n";
  }
  return JSON.stringify(e) + "\n";
}

/** The bytes a print or stdin event carries. */
export function eventBytes(e: { data?: string; b64?: string; raw?: Uint8Array }): Uint8Array {
  if (e.raw) return e.raw;
  if (typeof e.data === "string") return encoder.encode(e.data);
  if (typeof e.b64 === "string") return Buffer.from(e.b64, "base64");
  return new Uint8Array();
}

/** A recording line that is not a well-formed event; the message says what is wrong. */
export class EventFormatError extends Error {
  override name = "EventFormatError";
}

/** Parses and checks one line; the error (EventFormatError) says what is wrong with it. */
export function parseEventLine(line: string): RecordingEvent {
  let e: unknown;
  try {
    e = JSON.parse(line);
  } catch {
    throw new EventFormatError("not valid JSON");
  }
  if (typeof e !== "object" || e === null || Array.isArray(e)) throw new EventFormatError("not a JSON object");
  const o = e as Record<string, unknown>;
  if (typeof o.event !== "string") throw new EventFormatError('no "event" field');
  if (typeof o.ms !== "number" || !Number.isFinite(o.ms) || o.ms < 0) throw new EventFormatError(`${o.event}: "ms" must be a non-negative number`);
  switch (o.event) {
    case "print":
    case "stdin":
      if (typeof o.data === "string" || typeof o.b64 === "string") break;
      // A version-2 frame head: its bytes follow the line (event-stream.ts reads them).
      if (o.n !== undefined) {
        if (!Number.isSafeInteger(o.n) || (o.n as number) < 0) throw new EventFormatError(`${o.event}: "n" must be a byte count`);
        break;
      }
      throw new EventFormatError(`${o.event}: needs "data" text, "b64" base64 or "n" bytes`);
    case "resize":
      if (!Number.isInteger(o.cols) || !Number.isInteger(o.rows)) throw new EventFormatError('resize: needs integer "cols" and "rows"');
      break;
    case "exec":
      if (typeof o.command !== "string") throw new EventFormatError('exec: needs "command"');
      break;
    case "session.start":
    case "session.end":
      break;
    default:
      // Unknown events are kept (a newer agent may add some); players skip them.
  }
  return o as unknown as RecordingEvent;
}

/** The bytes as a string when they are valid UTF-8 without odd control bytes (what `data` may hold); undefined otherwise. */
export function bytesAsText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return undefined;
  }
  return AWKWARD.test(text) ? undefined : text;
}
