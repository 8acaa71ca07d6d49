// Turns one batch from the main thread (a byte buffer and its event list) into the
// bytes of format-version-2 events: a chunk that reads as text is a JSON line with
// `data`; anything else, and all bulk output, is a frame (a head line, the bytes, a
// newline), so output is copied once into the result and never base64-encoded.
import { LINE, PRINT, RESIZE, type BatchEvent } from "./encoder-protocol.ts";
import { frameHead, textLine } from "../../recording/format/recording-event.ts";

/** Chunks up to this size (keystroke echoes, prompts) may be `data` text; larger ones are always frames (no UTF-8 pass). */
const TEXT_MAX = 1024;

export function batchText(buf: Uint8Array, events: BatchEvent[]): { bytes: Uint8Array; lastMs: number } {
  // Heads and lines first, so the result is allocated once at its exact size.
  const items: (string | { head: string; a: number; b: number })[] = [];
  let size = 0;
  let lastMs = 0;
  for (const e of events) {
    if (e[0] === LINE) {
      items.push(e[1]);
      size += Buffer.byteLength(e[1]);
      continue;
    }
    const [kind, ms, a, b] = e;
    lastMs = ms;
    if (kind === RESIZE) {
      const line = `{"event":"resize","ms":${ms},"cols":${a},"rows":${b}}\n`;
      items.push(line);
      size += line.length;
      continue;
    }
    const event = kind === PRINT ? "print" : "stdin";
    const text = b <= TEXT_MAX ? textLine(event, ms, buf.subarray(a, a + b)) : undefined;
    if (text !== undefined) {
      items.push(text);
      size += Buffer.byteLength(text);
    } else {
      const head = frameHead(event, ms, b);
      items.push({ head, a, b });
      size += head.length + b + 1;
    }
  }
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  for (const it of items) {
    if (typeof it === "string") o += out.write(it, o, "utf8");
    else {
      o += out.write(it.head, o, "latin1");
      out.set(buf.subarray(it.a, it.a + it.b), o);
      o += it.b;
      out[o++] = 0x0a;
    }
  }
  return { bytes: out.subarray(0, o), lastMs };
}
