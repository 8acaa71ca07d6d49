// The recording's event stream: one JSON object per line.
//
// Output and input bytes are kept exact: a chunk that is valid UTF-8 without unusual
// control bytes is stored as a JSON string in `data` (readable with zcat | jq);
// anything else is stored as base64 in `b64`. Decoding either gives back the
// original bytes. `ms` is milliseconds since the session started.

export type RecordingEvent =
  | SessionStartEvent
  | { event: "print"; ms: number; data?: string; b64?: string }
  | { event: "stdin"; ms: number; data?: string; b64?: string }
  | { event: "resize"; ms: number; cols: number; rows: number }
  | { event: "exec"; ms: number; command: string }
  | SessionEndEvent;

export interface SessionStartEvent {
  event: "session.start";
  ms: 0;
  version: 1;
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

/** The JSON line (with its newline) of a print or stdin event. */
export function bytesLine(event: "print" | "stdin", ms: number, bytes: Uint8Array): string {
  if (bytes.length <= TEXT_CHECK_MAX) {
    const text = _asText(bytes);
    if (text !== undefined) return `{"event":"${event}","ms":${ms},"data":${JSON.stringify(text)}}\n`;
  }
  return `{"event":"${event}","ms":${ms},"b64":"${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64")}"}\n`;
}

export function eventLine(e: RecordingEvent): string {
  return JSON.stringify(e) + "\n";
}

/** The bytes a print or stdin event carries. */
export function eventBytes(e: { data?: string; b64?: string }): Uint8Array {
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
      if (typeof o.data !== "string" && typeof o.b64 !== "string") throw new EventFormatError(`${o.event}: needs "data" text or "b64" base64`);
      break;
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

function _asText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return undefined;
  }
  return AWKWARD.test(text) ? undefined : text;
}
