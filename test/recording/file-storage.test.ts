// The file:// backend runs the shared storage suite, and its own cases: parts in order
// are written in place into the upload's data file (completion renames it), parts out
// of order get files of their own (completion concatenates), and both give the same object.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStorage } from "../../src/auth/recording/file-storage.ts";
import { storageSuite } from "./storage-suite.ts";

storageSuite("file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hostward-files-"));
  const storage = new FileStorage(join(dir, "recordings"));
  return { storage, partFiles: (id) => storage.partFiles(id), close: async () => rmSync(dir, { recursive: true, force: true }) };
});

describe("file storage: parts in place", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const make = async () => {
    const dir = mkdtempSync(join(tmpdir(), "hostward-files-"));
    dirs.push(dir);
    const s = new FileStorage(join(dir, "recordings"));
    await s.check();
    return { s, uploads: join(dir, "recordings", ".uploads") };
  };
  const text = (s: string) => new TextEncoder().encode(s);
  const get = async (s: FileStorage, key: string) => new TextDecoder().decode(await s.get(key));

  test("parts in order go into one data file, renamed into place at completion", async () => {
    const { s, uploads } = await make();
    const id = await s.createUpload("sessions/a.gz");
    const etags = [await s.uploadPart("sessions/a.gz", id, 1, text("one,")), await s.uploadPart("sessions/a.gz", id, 2, text("two,")), await s.uploadPart("sessions/a.gz", id, 3, text("three"))];
    expect(readdirSync(join(uploads, id)).sort()).toEqual(["data", "part-00001.at", "part-00002.at", "part-00003.at"]);
    expect(await s.exists("sessions/a.gz")).toBe(false);
    await s.completeUpload("sessions/a.gz", id, etags.map((etag, i) => ({ n: i + 1, etag })));
    expect(await get(s, "sessions/a.gz")).toBe("one,two,three");
    expect(existsSync(join(uploads, id))).toBe(false);
  });

  test("the last part sent again, shorter, replaces it; what lay past it is cut", async () => {
    const { s } = await make();
    const id = await s.createUpload("sessions/b.gz");
    await s.uploadPart("sessions/b.gz", id, 1, text("first,"));
    await s.uploadPart("sessions/b.gz", id, 2, text("second-long"));
    await s.uploadPart("sessions/b.gz", id, 2, text("2nd"));
    await s.completeUpload("sessions/b.gz", id, [{ n: 1, etag: "" }, { n: 2, etag: "" }]);
    expect(await get(s, "sessions/b.gz")).toBe("first,2nd");
  });

  test("bytes past the last part (a write cut by a crash) are cut at completion", async () => {
    const { s, uploads } = await make();
    const id = await s.createUpload("sessions/c.gz");
    await s.uploadPart("sessions/c.gz", id, 1, text("kept"));
    writeFileSync(join(uploads, id, "data"), "keptGARBAGE");
    await s.completeUpload("sessions/c.gz", id, [{ n: 1, etag: "" }]);
    expect(await get(s, "sessions/c.gz")).toBe("kept");
  });

  test("parts out of order get files of their own and the object is the same", async () => {
    const { s, uploads } = await make();
    const id = await s.createUpload("sessions/d.gz");
    await s.uploadPart("sessions/d.gz", id, 2, text("B"));
    await s.uploadPart("sessions/d.gz", id, 1, text("A"));
    await s.uploadPart("sessions/d.gz", id, 3, text("C"));
    expect(readdirSync(join(uploads, id)).sort()).toEqual(["part-00001", "part-00002", "part-00003"]);
    await s.completeUpload("sessions/d.gz", id, [1, 2, 3].map((n) => ({ n, etag: "" })));
    expect(await get(s, "sessions/d.gz")).toBe("ABC");
  });

  test("an earlier part sent again after later ones replaces it without touching them", async () => {
    const { s } = await make();
    const id = await s.createUpload("sessions/e.gz");
    await s.uploadPart("sessions/e.gz", id, 1, text("aa"));
    await s.uploadPart("sessions/e.gz", id, 2, text("bb"));
    await s.uploadPart("sessions/e.gz", id, 3, text("cc"));
    await s.uploadPart("sessions/e.gz", id, 2, text("XYZ"));
    await s.completeUpload("sessions/e.gz", id, [1, 2, 3].map((n) => ({ n, etag: "" })));
    expect(await get(s, "sessions/e.gz")).toBe("aaXYZcc");
  });

  test("a data file shorter than its parts say fails completion, leaving no object", async () => {
    const { s, uploads } = await make();
    const id = await s.createUpload("sessions/f.gz");
    await s.uploadPart("sessions/f.gz", id, 1, text("abcdef"));
    writeFileSync(join(uploads, id, "data"), "abc");
    await expect(s.completeUpload("sessions/f.gz", id, [{ n: 1, etag: "" }])).rejects.toThrow(/holds 3 bytes/);
    expect(await s.exists("sessions/f.gz")).toBe(false);
  });
});
