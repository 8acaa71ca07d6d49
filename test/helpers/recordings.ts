// Test helpers for session recordings: find a user's recordings, wait for them to be
// durable, and read them back with `hostward play`.
import { eventBytes, type RecordingEvent } from "../../src/recording/format/recording-event.ts";
import type { TestCluster } from "./cluster.ts";
import { CLI, run, waitFor, type RunResult } from "./process.ts";

export interface RecordingRow {
  session_id: string;
  user: string;
  login: string;
  kind: string;
  mode: string;
  state: string;
  bytes: number;
  events: number;
  duration_ms: number;
  reason?: string;
}

export async function recordingsOf(c: TestCluster, user: string): Promise<RecordingRow[]> {
  return JSON.parse(await c.ctlOk("recordings", "ls", "--user", user, "--format", "json"));
}

/** Waits until `user` has `count` recordings, all finished (not uploading); returns them newest first. */
export async function waitForRecordings(c: TestCluster, user: string, count: number, timeoutMs = 30_000): Promise<RecordingRow[]> {
  let rows: RecordingRow[] = [];
  await waitFor(async () => {
    rows = await recordingsOf(c, user);
    return rows.length >= count && rows.every((r) => r.state !== "uploading");
  }, timeoutMs, `${count} finished recording(s) of ${user}`, 200);
  return rows;
}

export function play(c: TestCluster, source: string, ...args: string[]): Promise<RunResult> {
  return run([...CLI, "play", "--identity", c.identity, source, ...args]);
}

export async function playEvents(c: TestCluster, source: string): Promise<RecordingEvent[]> {
  const r = await play(c, source, "--format", "json");
  if (r.code !== 0) throw new Error(`play failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim().split("\n").map((l) => JSON.parse(l));
}

/** The output bytes of a recording, concatenated, as a latin1 string (byte-exact). */
export function outputOf(events: RecordingEvent[]): Buffer {
  return Buffer.concat(events.filter((e) => e.event === "print").map((e) => Buffer.from(eventBytes(e as { data?: string; b64?: string; raw?: Uint8Array }))));
}
