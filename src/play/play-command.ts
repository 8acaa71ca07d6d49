// `hostward play SESSION|FILE [--speed 2] [--from 1m30s] [--skip-idle 2s]
// [--format pty|json|text|asciicast]`: plays or exports a recording, fetched from the
// auth service (as `ctl` would, with the same identity) or read from a local file.
import { existsSync, readFileSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { CliError, usage } from "../platform/cli-error.ts";
import { clientFor, selectIdentity } from "../platform/identity-selection.ts";
import { asciicastLines } from "./asciicast.ts";
import { parseClock } from "../recording/format/clock.ts";
import { playPty } from "./pty-player.ts";
import { eventBytes, eventLine } from "../recording/format/recording-event.ts";
import { downloadRecording } from "../platform/recording-download.ts";
import { readRecording, type LoadedRecording } from "../recording/format/recording-reader.ts";
import { badSessionIdMessage, isSessionId } from "../core/session-id.ts";
import { plainText, utf8Stream } from "./text-output.ts";
import { timing } from "../recording/format/timeline.ts";

const FORMATS = ["pty", "json", "text", "asciicast"] as const;
type PlayFormat = (typeof FORMATS)[number];

export const PLAY_USAGE = "usage: hostward play SESSION|FILE [--speed 2] [--from 1m30s] [--skip-idle 2s] [--format pty|json|text|asciicast] [--identity FILE] [--auth HOST:PORT]";

export async function runPlay(argv: string[], env: Record<string, string | undefined>): Promise<void> {
  const o = playOptions(argv);
  const rec = await load(o.source, o.identity, o.auth, env);
  if (rec.truncated) process.stderr.write(`hostward: ${rec.truncated}\n`);
  const t = timing(rec.events, { fromMs: o.fromMs, skipIdleMs: o.skipIdleMs });
  const out = (s: string) => process.stdout.write(s);
  switch (o.format) {
    case "json":
      for (const e of rec.events) if (e.ms >= o.fromMs || e.event === "session.start") out(eventLine(e));
      return;
    case "text": {
      const decode = utf8Stream();
      let text = "";
      for (const e of rec.events) if (e.event === "print" && e.ms >= o.fromMs) text += decode(eventBytes(e));
      out(plainText(text + decode(new Uint8Array(), true)));
      return;
    }
    case "asciicast":
      for (const line of asciicastLines(rec, t)) out(line + "\n");
      return;
    case "pty":
      await playPty(rec, { speed: o.speed, fromMs: o.fromMs, skipIdleMs: o.skipIdleMs });
      if (rec.truncated) process.stderr.write(`hostward: ${rec.truncated}\n`);
      return;
  }
}

async function load(source: string, identity: string | undefined, auth: string | undefined, env: Record<string, string | undefined>): Promise<LoadedRecording> {
  if (existsSync(source) && statSync(source).isFile()) return readRecording(readFileSync(source));
  if (!isSessionId(source)) throw usage(`play: ${badSessionIdMessage(source)}, and there is no such file`);
  const d = await downloadRecording(clientFor(selectIdentity(identity, env), auth), source);
  if (d.cut) process.stderr.write(`hostward: ${d.cut}\n`);
  return readRecording(d.bytes);
}

function playOptions(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {
      speed: { type: "string" }, from: { type: "string" }, "skip-idle": { type: "string" }, format: { type: "string" },
      identity: { type: "string" }, auth: { type: "string" },
    } });
  } catch (e) {
    throw usage(`play: ${(e as Error).message.split("\n")[0]}\n${PLAY_USAGE}`);
  }
  const { values: v, positionals } = parsed;
  if (positionals.length !== 1) throw usage(PLAY_USAGE);
  const format = (v.format ?? "pty") as PlayFormat;
  if (!FORMATS.includes(format)) throw usage(`play: --format must be one of ${FORMATS.join(", ")}`);
  const speed = Number(v.speed ?? "1");
  if (!Number.isFinite(speed) || speed <= 0 || speed > 1000) throw usage(`play: --speed must be a positive number, got ${JSON.stringify(v.speed)}`);
  return {
    source: positionals[0]!, format, speed, identity: v.identity, auth: v.auth,
    fromMs: v.from ? clock("--from", v.from) : 0,
    skipIdleMs: v["skip-idle"] ? clock("--skip-idle", v["skip-idle"]) : undefined,
  };
}

function clock(flag: string, s: string): number {
  try {
    return parseClock(s);
  } catch (e) {
    throw new CliError(`play: ${flag}: ${(e as Error).message}`, 2);
  }
}
