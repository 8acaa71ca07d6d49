// The auth service's ingest with a moving clock: abandoned uploads are finished as
// interrupted (or dropped when empty), and parts arrive in order, exactly once, even
// when the replica taking them dies between two of its writes or is slow with one.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../src/auth/sqlite-store.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { FileStorage } from "../../src/auth/recording/file-storage.ts";
import { checkPart, gzipMember } from "../../src/recording/format/part-codec.ts";
import { ABANDON_SYNC_MS, IngestError, RecordingIngest } from "../../src/auth/recording/recording-ingest.ts";
import type { RecordingStore } from "../../src/auth/recording/recording-store.ts";
import type { RecordingStorage } from "../../src/auth/recording/recording-storage.ts";

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

type Write = <T>(fn: () => Promise<T>) => Promise<T>;

/** `storage` with every write going through `write`, and another minimum part size. */
function storageVia(storage: RecordingStorage, write: Write, minPartSize = storage.minPartSize): RecordingStorage {
  return {
    url: storage.url, minPartSize, check: () => storage.check(), get: (k) => storage.get(k), open: (k) => storage.open(k),
    exists: (k) => storage.exists(k), list: (p) => storage.list(p),
    put: (k, d) => write(() => storage.put(k, d)), delete: (k) => write(() => storage.delete(k)),
    createUpload: (k) => write(() => storage.createUpload(k)), uploadPart: (k, id, n, d) => write(() => storage.uploadPart(k, id, n, d)),
    completeUpload: (k, id, p) => write(() => storage.completeUpload(k, id, p)), abortUpload: (k, id) => write(() => storage.abortUpload(k, id)),
  };
}

/** A replica that dies right after its `at`-th write (store, storage or audit): that write lands, nothing after it does. */
class Died extends Error {}
function mortal(store: RecordingStore, storage: RecordingStorage, at: number) {
  let writes = 0;
  const write: Write = async (fn) => {
    if (writes >= at) throw new Died("dead");
    const out = await fn();
    if (++writes >= at) throw new Died(`died after write ${at}`);
    return out;
  };
  const s: RecordingStore = {
    getRecording: (sid) => store.getRecording(sid), listRecordings: (q) => store.listRecordings(q), usage: (d) => store.usage(d),
    openRecordings: (id) => store.openRecordings(id), deleteRecording: (sid) => write(() => store.deleteRecording(sid)),
    putRecording: (r, expectVersion) => write(() => store.putRecording(r, expectVersion)),
  };
  return { store: s, storage: storageVia(storage, write), audit: (sink: (e: Record<string, unknown>) => void) => (e: Record<string, unknown>) => write(async () => sink(e)) };
}

test("a replica that dies after any write of a part or a finish: another carries on, every byte stored once, one session.upload", async () => {
  // Parts of ~50 bytes against a 100-byte minimum: part 1 is staged, part 2 flushes both
  // into storage part 1, part 3 is staged and flushed by the finish.
  const parts = [1, 2, 3].map((n) => gzipMember(`{"event":"print","ms":${n},"data":"${"x".repeat(20)}"}\n`));
  let survived = 0;
  for (let at = 1; ; at++) {
    const store = SqliteStore.open(":memory:").recordings;
    const storage = storageVia(new FileStorage(join(dir, crypto.randomUUID())), (fn) => fn(), 100);
    const events = new Map<string, Record<string, unknown>>(); // the events table: one row per uid
    const sink = (e: Record<string, unknown>) => void events.set((e.uid as string | undefined) ?? crypto.randomUUID(), e);
    const quiet = createLogger("error", {}, () => {});
    const b = new RecordingIngest(store, storage, sink, quiet);
    const sid = crypto.randomUUID();
    await b.open({ serverId: "n1", sessionId: sid, user: "u", login: "l", kind: "shell", mode: "node-sync", started: new Date() });
    const m = mortal(store, storage, at);
    const a = new RecordingIngest(m.store, m.storage, m.audit(sink), quiet);
    // The agent sends through A until it dies, then sends again what A did not acknowledge through B.
    let acked = 0;
    let done = false;
    try {
      for (const [i, p] of parts.entries()) acked = (await a.putPart("n1", sid, i + 1, p)).nextPart - 1;
      await a.complete("n1", sid, 3, false);
      done = true;
    } catch (e) {
      if (!(e instanceof Died || (e as Error).cause instanceof Died)) throw e;
    }
    if (done) break; // A outlived every write: each crash point was tried
    survived++;
    for (let n = acked + 1; n <= 3; n++) await b.putPart("n1", sid, n, parts[n - 1]!);
    const r = await b.complete("n1", sid, 3, false);
    expect(r.state).toBe("complete");
    expect(r.bytes).toBe(parts.reduce((t, p) => t + p.length, 0));
    expect(Buffer.from((await storage.get(r.key))!)).toEqual(Buffer.concat(parts));
    expect([...events.values()].filter((e) => e.event === "session.upload")).toHaveLength(1);
  }
  expect(survived).toBeGreaterThan(5);
});

test("a replica slow with a part the agent then sent through another cannot step the upload back", async () => {
  const parts = [1, 2].map((n) => gzipMember(`{"event":"print","ms":${n},"data":"${"y".repeat(20)}"}\n`));
  const store = SqliteStore.open(":memory:").recordings;
  const storage = new FileStorage(join(dir, crypto.randomUUID()));
  const quiet = createLogger("error", {}, () => {});
  const b = new RecordingIngest(store, storage, () => {}, quiet);
  // Replica A has read the record and holds part 1 in its check until B has stored parts 1 and 2.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let checking!: () => void;
  const inCheck = new Promise<void>((r) => (checking = r));
  const a = new RecordingIngest(store, storage, () => {}, quiet, () => new Date(), () => {}, async (bytes) => {
    checking();
    await held;
    return { check: checkPart(bytes), bytes };
  });
  const sid = crypto.randomUUID();
  await b.open({ serverId: "n1", sessionId: sid, user: "u", login: "l", kind: "shell", mode: "node", started: new Date() });
  const late = a.putPart("n1", sid, 1, parts[0]!).catch((e: Error) => e);
  await inCheck;
  await b.putPart("n1", sid, 1, parts[0]!);
  expect((await b.putPart("n1", sid, 2, parts[1]!)).nextPart).toBe(3);
  release();
  const refused = await late;
  expect(refused).toBeInstanceOf(IngestError);
  expect((refused as IngestError).message).toContain("another auth replica changed this recording meanwhile");
  expect((await store.getRecording(sid))!.nextPart).toBe(3);
  const r = await b.complete("n1", sid, 2, false);
  expect(r.state).toBe("complete");
  expect(Buffer.from((await storage.get(r.key))!)).toEqual(Buffer.concat(parts));
});
