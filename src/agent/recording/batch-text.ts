// Turns one batch from the main thread (a byte buffer and its event list) into NDJSON
// bytes. Bulk output is written as base64 straight into one buffer: no joined strings
// and no UTF-8 encoding pass over the whole batch.
import { LINE, PRINT, RESIZE, type BatchEvent } from "./encoder-protocol.ts";
import { bytesLine } from "../../recording/format/recording-event.ts";

/** Chunks above this are base64 (bytesLine would decide the same); smaller ones may be text. */
const BULK = 16 * 1024;

export function batchText(buf: Uint8Array, events: BatchEvent[]): { bytes: Uint8Array; lastMs: number } {
  const items: (string | { head: string; b64: string })[] = [];
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
    if (b > BULK) {
      const head = `{"event":"${event}","ms":${ms},"b64":"`;
      const b64 = Buffer.from(buf.buffer, buf.byteOffset + a, b).toString("base64");
      items.push({ head, b64 });
      size += head.length + b64.length + 3;
    } else {
      const line = bytesLine(event, ms, buf.subarray(a, a + b));
      items.push(line);
      size += Buffer.byteLength(line);
    }
  }
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  for (const it of items) {
    if (typeof it === "string") o += out.write(it, o, "utf8");
    else {
      o += out.write(it.head, o, "latin1");
      o += out.write(it.b64, o, "latin1");
      o += out.write('"}\n', o, "latin1");
    }
  }
  return { bytes: out.subarray(0, o), lastMs };
}
