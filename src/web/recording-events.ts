// A recording for the browser's player: the download route's answer (authorised and
// audited as session.recording.access there) decoded into compact events.
import { bytesAsText } from "../recording/format/recording-event.ts";
import { readRecording } from "../recording/format/recording-reader.ts";

/** [ms, "o", text] output as text, [ms, "b", base64] output as bytes, [ms, "r", cols, rows] a resize. */
export type PlayerEvent = [number, "o", string] | [number, "b", string] | [number, "r", number, number];

/** A version-2 frame's bytes: as text when they read as text (as version 1's `data` did), else base64. */
function frame(ms: number, raw: Uint8Array): PlayerEvent {
  const text = bytesAsText(raw);
  return text !== undefined ? [ms, "o", text] : [ms, "b", Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString("base64")];
}

export async function recordingEvents(download: Response): Promise<Response> {
  if (!download.ok) return download;
  const rec = readRecording(new Uint8Array(await download.arrayBuffer()));
  const events: PlayerEvent[] = [];
  for (const e of rec.events) {
    if (e.event === "print") events.push(typeof e.data === "string" ? [e.ms, "o", e.data] : e.raw ? frame(e.ms, e.raw) : [e.ms, "b", e.b64 ?? ""]);
    else if (e.event === "resize") events.push([e.ms, "r", e.cols, e.rows]);
  }
  return Response.json({
    start: rec.start ?? null, end: rec.end ?? null, duration_ms: rec.durationMs, truncated: rec.truncated ?? null,
    state: download.headers.get("x-hostward-recording-state"), events,
  });
}
