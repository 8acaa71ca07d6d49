// The auth service's ingest with a moving clock: abandoned uploads are finished as
// interrupted (or dropped when empty), and parts arrive in order, exactly once.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../src/auth/sqlite-store.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { FileStorage } from "../../src/auth/recording/file-storage.ts";
import { gzipMember } from "../../src/recording/format/part-codec.ts";
import { ABANDON_SYNC_MS, RecordingIngest } from "../../src/auth/recording/recording-ingest.ts";

const dir = mkdtempSync(join(tmpdir(), "hostward-ingest-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ingest() {
  let now = new Date("2026-01-01T00:00:00Z");
  const events: Record<string, unknown>[] = [];
  const store = SqliteStore.open(":memory:").recordings;
  const i = new RecordingIngest(store, new FileStorage(join(dir, crypto.randomUUID())), (e) => void events.push(e), createLogger("error"), () => now);
  return { i, store, events, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

const open = async (i: RecordingIngest, mode: string) => {
  const sid = crypto.randomUUID();
  await i.open({ serverId: "n1", sessionId: sid, user: "u", login: "l", kind: "shell", mode, started: new Date() });
  return sid;
};
const part = (ms: number) => gzipMember(`{"event":"print","ms":${ms},"data":"x"}\n`);

test("parts in order, duplicates acknowledged, gaps refused", async () => {
  const { i } = ingest();
  const sid = await open(i, "node");
  expect((await i.putPart("n1", sid, 1, part(1))).nextPart).toBe(2);
  expect((await i.putPart("n1", sid, 1, part(1))).nextPart).toBe(2);
  await expect(i.putPart("n1", sid, 3, part(3))).rejects.toThrow(/expected part 2, got 3/);
  await expect(i.putPart("n2", sid, 2, part(2))).rejects.toThrow(/belongs to another node/);
  await expect(i.complete("n1", sid, 2, false)).rejects.toThrow(/have parts up to 1, not 2/);
  expect((await i.complete("n1", sid, 1, false)).state).toBe("complete");
});

test("abandoned uploads: a node-sync one is finished as interrupted, an empty one dropped, a fresh one left", async () => {
  const { i, store, events, advance } = ingest();
  const stale = await open(i, "node-sync");
  await i.putPart("n1", stale, 1, part(5));
  const empty = await open(i, "node-sync");
  const nodeMode = await open(i, "node");
  await i.putPart("n1", nodeMode, 1, part(5));
  advance(ABANDON_SYNC_MS + 1);
  const fresh = await open(i, "node-sync");
  expect(await i.sweep()).toEqual({ finished: 1, dropped: 1 });
  expect(await store.getRecording(stale)).toMatchObject({ state: "complete", interrupted: true });
  expect((await store.getRecording(stale))!.reason).toMatch(/upload abandoned/);
  expect(await store.getRecording(empty)).toBeUndefined();
  expect((await store.getRecording(nodeMode))!.state).toBe("open");
  expect((await store.getRecording(fresh))!.state).toBe("open");
  expect(events.filter((e) => e.event === "session.upload")).toHaveLength(1);
});
