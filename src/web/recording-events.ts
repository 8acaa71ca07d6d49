// A recording for the browser's player: the download route's answer (authorised and
// audited as session.recording.access there) decoded into compact events.
import { readRecording } from "../recording/format/recording-reader.ts";

/** [ms, "o", text] output as text, [ms, "b", base64] output as bytes, [ms, "r", cols, rows] a resize. */
export type PlayerEvent = [number, "o", string] | [number, "b", string] | [number, "r", number, number];

export async function recordingEvents(download: Response): Promise<Response> {
  if (!download.ok) return download;
  const rec = readRecording(new Uint8Array(await download.arrayBuffer()));
  const events: PlayerEvent[] = [];
  for (const e of rec.events) {
    if (e.event === "print") events.push(typeof e.data === "string" ? [e.ms, "o", e.data] : [e.ms, "b", e.raw ? Buffer.from(e.raw.buffer, e.raw.byteOffset, e.raw.length).toString("base64") : (e.b64 ?? "")]);
    else if (e.event === "resize") events.push([e.ms, "r", e.cols, e.rows]);
  }
  return Response.json({
    start: rec.start ?? null, end: rec.end ?? null, duration_ms: rec.durationMs, truncated: rec.truncated ?? null,
    state: download.headers.get("x-hostward-recording-state"), events,
  });
}
