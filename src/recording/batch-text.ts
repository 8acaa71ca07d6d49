// Turns one batch from the main thread (a byte buffer and its event list) into NDJSON text.
import { LINE, PRINT, RESIZE, type BatchEvent } from "./encoder-protocol.ts";
import { bytesLine } from "./recording-event.ts";

export function batchText(buf: Uint8Array, events: BatchEvent[]): { text: string; lastMs: number } {
  const lines: string[] = [];
  let lastMs = 0;
  for (const e of events) {
    if (e[0] === LINE) {
      lines.push(e[1]);
      continue;
    }
    const [kind, ms, a, b] = e;
    lastMs = ms;
    if (kind === RESIZE) lines.push(`{"event":"resize","ms":${ms},"cols":${a},"rows":${b}}\n`);
    else lines.push(bytesLine(kind === PRINT ? "print" : "stdin", ms, buf.subarray(a, a + b)));
  }
  return { text: lines.join(""), lastMs };
}
