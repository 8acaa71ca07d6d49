// Recording parts: gzip members of whole events (JSON lines and version-2 frames). A part may hold several
// members (one per flush); the concatenation of parts is still one valid .ndjson.gz.
// Checking takes bytes and says what is wrong; salvaging keeps the whole lines of a
// part cut short by a crash.
import { constants, gunzipSync } from "node:zlib";
import { sizeMember, splitMembers, storedMember } from "./gzip-members.ts";
import { repeatShare } from "./compressibility.ts";
import { walkEvents } from "./event-stream.ts";
import { parseEventLine, type RecordingEvent } from "./recording-event.ts";

/** Above this many bytes of events a flush is compressed fast (level 1) rather than well (6). */
const FAST_ABOVE = 256 * 1024;
/**
 * Samples with less than this share of repeats are stored (level 0): on such data
 * gzip's fast level saves under 5% and costs ~40× a copy (bench/results/recording.json).
 */
const INCOMPRESSIBLE = 0.1;

export type PartCheck =
  | { ok: true; events: number; lastMs: number; last?: RecordingEvent; rawBytes: number }
  | { ok: false; reason: string };

/** One gzip member of the given lines, at a level that fits their size and content. */
export function gzipMember(text: string | Uint8Array, level?: 0 | 1 | 6 | 9): Uint8Array {
  const raw = (typeof text === "string" ? Buffer.from(text) : text) as Uint8Array<ArrayBuffer>;
  if (level === undefined && raw.length <= FAST_ABOVE) level = 6;
  if (level === undefined) level = repeatShare(raw) < INCOMPRESSIBLE ? 0 : 1;
  if (level === 0) return storedMember(raw);
  return sizeMember(Bun.gzipSync(raw, { level }));
}

/** Inflates a part: member by member with libdeflate when they are sized, else with zlib. */
export function gunzipPart(bytes: Uint8Array): Buffer {
  const members = splitMembers(bytes);
  if (!members) return gunzipSync(bytes);
  return Buffer.concat(members.map((m) => Bun.gunzipSync(m as Uint8Array<ArrayBuffer>)));
}

/**
 * Checks that bytes are gzip (whose CRC catches damaged bytes) of whole events: JSON
 * lines, and version-2 frames. Lines are decoded one at a time as latin1: JSON
 * structure is ASCII, so this checks the same thing as UTF-8 would without building
 * one huge string; frame bytes are only counted.
 */
export function checkPart(bytes: Uint8Array): PartCheck {
  // Members hold whole events, so each is checked on its own (no concatenated copy).
  const members = splitMembers(bytes) ?? [bytes];
  const r = { events: 0, lastMs: 0, last: undefined as RecordingEvent | undefined, rawBytes: 0 };
  for (const m of members) {
    const room = PART_RAW_MAX - r.rawBytes;
    let raw: Buffer;
    try {
      // libdeflate sizes its output by the member's declared length (and refuses a member
      // that inflates to more), so a declared length within bounds bounds the memory too.
      if (members.length > 1 || m !== bytes) {
        if (declaredSize(m) > room) return { ok: false, reason: tooLarge() };
        raw = asBuffer(Bun.gunzipSync(m as Uint8Array<ArrayBuffer>));
      } else {
        raw = gunzipSync(m, { maxOutputLength: Math.max(1, room) });
      }
    } catch (e) {
      if ((e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") return { ok: false, reason: tooLarge() };
      return { ok: false, reason: `not valid gzip: ${(e as Error).message}` };
    }
    if (raw.length === 0) continue;
    const w = walkEvents(raw, { line: latin1Line });
    r.events += w.events;
    if (w.last) {
      r.last = w.last;
      r.lastMs = w.last.ms;
    }
    if (w.error) return { ok: false, reason: w.error.replace(/^line (\d+)/, (_, n: string) => `line ${r.events - w.events + Number(n)}`) };
    r.rawBytes += raw.length;
  }
  if (r.rawBytes === 0) return { ok: false, reason: "empty part" };
  return { ok: true, ...r };
}

/**
 * The most a part may inflate to: the agent seals a part once it holds 64 MiB of events
 * (plus the batch that crossed it, at most 4 MiB). A part that claims or inflates to more
 * — a gzip bomb from a hostile node — is refused before the memory is taken.
 */
export const PART_RAW_MAX = 128 * 1024 * 1024;

const tooLarge = () => `inflates to more than ${PART_RAW_MAX >> 20} MiB (a part holds at most 64 MiB of events and one batch)`;

/** A gzip member's declared inflated size (ISIZE, its last four bytes). */
function declaredSize(m: Uint8Array): number {
  return m.length < 4 ? 0 : new DataView(m.buffer, m.byteOffset + m.length - 4, 4).getUint32(0, true);
}

/** A Buffer view of the same memory (Buffer.from(Uint8Array) would copy it). */
function asBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

function latin1Line(raw: Uint8Array, start: number, end: number): RecordingEvent {
  const b = raw as Buffer;
  return end - start > BULK_LINE ? bulkLine(b, start, end) : parseEventLine(b.toString("latin1", start, end));
}

/** Lines longer than this are bulk output (version 1's base64); they are checked by shape, not parsed. */
const BULK_LINE = 4096;
const BULK_HEAD = /^\{"event":"(print|stdin)","ms":(0|[1-9]\d{0,14}),"(?:b64|data)":"/;

/**
 * A long print/stdin line as the recorder writes it: the fixed head, then a string
 * with no quote or backslash (base64, or text without escapes), then `"}`. Anything
 * else, such as a string with escapes, goes through JSON.parse.
 */
function bulkLine(raw: Buffer, start: number, end: number): RecordingEvent {
  const head = BULK_HEAD.exec(raw.toString("latin1", start, start + 48));
  const body = raw.subarray(start + (head?.[0].length ?? 0), end);
  if (!head || body.indexOf(0x22) !== body.length - 2 || body[body.length - 1] !== 0x7d || body.indexOf(0x5c) !== -1) return parseEventLine(raw.toString("latin1", start, end));
  return { event: head[1] as "print", ms: Number(head[2]), b64: "" };
}

/** The whole, valid events at the start of a (possibly truncated) gzip stream, as bytes. */
export function salvageLines(bytes: Uint8Array): { bytes: Buffer; events: number; lastMs: number; last?: RecordingEvent; complete: boolean } {
  let out: Buffer;
  let complete = true;
  try {
    out = gunzipSync(bytes);
  } catch {
    complete = false;
    try {
      out = gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH });
    } catch {
      out = Buffer.alloc(0);
    }
  }
  const w = walkEvents(out);
  if (w.error) complete = false;
  return { bytes: out.subarray(0, w.end), events: w.events, lastMs: w.last?.ms ?? 0, last: w.last, complete };
}
