// The one acceptance suite every recording storage backend runs (STYLE: one interface,
// one shared suite): objects, multipart uploads and key checks.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { RecordingStorage } from "../../src/auth/recording/recording-storage.ts";

export interface StorageFixture {
  storage: RecordingStorage;
  /** Where the backend keeps an upload's parts, when a test can look (file backend). */
  partFiles?(uploadId: string): string[];
  close(): Promise<void>;
}

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

export function storageSuite(name: string, make: () => Promise<StorageFixture>): void {
  describe(`recording storage: ${name}`, () => {
    let f: StorageFixture;
    let s: RecordingStorage;
    beforeAll(async () => {
      f = await make();
      s = f.storage;
      await s.check();
    }, 30_000);
    afterAll(() => f.close());

    test("objects: put, get, open, exists, list, delete", async () => {
      await s.put("staging/a/000001.gz", bytes(10, 1));
      await s.put("staging/a/000002.gz", bytes(20, 2));
      await s.put("staging/b/000001.gz", bytes(5, 3));
      expect(await s.get("staging/a/000002.gz")).toEqual(bytes(20, 2));
      expect(await s.exists("staging/a/000001.gz")).toBe(true);
      expect(await s.list("staging/a/")).toEqual(["staging/a/000001.gz", "staging/a/000002.gz"]);
      const o = await s.open("staging/b/000001.gz");
      expect(o!.size).toBe(5);
      expect(new Uint8Array(await new Response(o!.body).arrayBuffer())).toEqual(bytes(5, 3));
      await s.put("staging/a/000001.gz", bytes(3, 9));
      expect(await s.get("staging/a/000001.gz")).toEqual(bytes(3, 9));
      await s.delete("staging/a/000001.gz");
      await s.delete("staging/a/000001.gz");
      expect(await s.exists("staging/a/000001.gz")).toBe(false);
      expect(await s.list("staging/a/")).toEqual(["staging/a/000002.gz"]);
    });

    test("missing objects are undefined, not errors", async () => {
      expect(await s.get("sessions/none.ndjson.gz")).toBeUndefined();
      expect(await s.open("sessions/none.ndjson.gz")).toBeUndefined();
      expect(await s.exists("sessions/none.ndjson.gz")).toBe(false);
    });

    test("multipart: parts of the minimum size and a small last one, whole only once completed", async () => {
      const key = "sessions/multi.ndjson.gz";
      const size = Math.max(s.minPartSize, 1024);
      const id = await s.createUpload(key);
      const e1 = await s.uploadPart(key, id, 1, bytes(size, 1));
      const e2 = await s.uploadPart(key, id, 2, bytes(size, 2));
      const e3 = await s.uploadPart(key, id, 3, bytes(7, 3));
      if (f.partFiles) expect(f.partFiles(id)).toHaveLength(3);
      expect(await s.exists(key)).toBe(false);
      await s.completeUpload(key, id, [{ n: 1, etag: e1 }, { n: 2, etag: e2 }, { n: 3, etag: e3 }]);
      if (f.partFiles) expect(f.partFiles(id)).toHaveLength(0);
      const got = await s.get(key);
      expect(got!.length).toBe(2 * size + 7);
      expect(got!.subarray(size - 1, size + 1)).toEqual(new Uint8Array([1, 2]));
      expect(got!.at(-1)).toBe(3);
    }, 60_000);

    test("multipart: a part sent again replaces the first copy", async () => {
      const key = "sessions/again.ndjson.gz";
      const id = await s.createUpload(key);
      await s.uploadPart(key, id, 1, bytes(4, 1));
      const e = await s.uploadPart(key, id, 1, bytes(4, 5));
      await s.completeUpload(key, id, [{ n: 1, etag: e }]);
      expect(await s.get(key)).toEqual(bytes(4, 5));
    });

    test("multipart: an aborted upload leaves no object", async () => {
      const key = "sessions/aborted.ndjson.gz";
      const id = await s.createUpload(key);
      await s.uploadPart(key, id, 1, bytes(4, 1));
      await s.abortUpload(key, id);
      if (f.partFiles) expect(f.partFiles(id)).toHaveLength(0);
      expect(await s.exists(key)).toBe(false);
    });

    test("keys that could leave the storage root are refused", async () => {
      for (const key of ["../escape", "sessions/../../escape", "/abs", "a//b", "sessions/x y", ""]) {
        await expect(s.put(key, bytes(1, 1))).rejects.toThrow(/refusing key/);
        await expect(s.createUpload(key)).rejects.toThrow(/refusing key/);
      }
    });
  });
}
