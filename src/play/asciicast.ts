// `play --format asciicast`: asciinema's v2 format — a JSON header line (version,
// width, height, timestamp, command) and then [seconds, "o" | "r", data] lines.
import type { LoadedRecording } from "../recording/format/recording-reader.ts";
import { eventBytes } from "../recording/format/recording-event.ts";
import { utf8Stream } from "./text-output.ts";
import type { Timing } from "../recording/format/timeline.ts";

export function* asciicastLines(rec: LoadedRecording, timing: Timing): Generator<string> {
  const s = rec.start;
  const header: Record<string, unknown> = {
    version: 2,
    width: s?.cols ?? 80,
    height: s?.rows ?? 24,
    timestamp: Math.floor(new Date(s?.time ?? 0).getTime() / 1000),
    command: s?.command ?? (s?.kind === "shell" ? "shell" : ""),
    title: s ? `${s.user} as ${s.login} on ${s.server_id}` : "hostward recording",
    env: { TERM: s?.term ?? "xterm", SHELL: "" },
  };
  const idle = timing.displayMs(rec.durationMs) / 1000;
  if (idle > 0) header.duration = idle;
  yield JSON.stringify(header);
  const decode = utf8Stream();
  for (const e of rec.events) {
    if (e.ms < timing.fromMs) continue;
    const t = Number((timing.displayMs(e.ms) / 1000).toFixed(6));
    if (e.event === "print") {
      const text = decode(eventBytes(e));
      if (text) yield JSON.stringify([t, "o", text]);
    } else if (e.event === "resize") {
      yield JSON.stringify([t, "r", `${e.cols}x${e.rows}`]);
    }
  }
}
