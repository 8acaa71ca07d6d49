// file://DIR recording storage. Objects are files under DIR; an upload in progress
// lives in DIR/.uploads/<id>/. A part that follows the one before it is written in
// place into that upload's data file (fsynced) and a small marker file says where it
// lies, so completion renames the data file into place instead of copying every byte
// again; a part sent out of order has a file of its own and completion concatenates.
// Either way the object is whole or absent.
import { randomUUID } from "node:crypto";
import { closeSync, constants, createReadStream, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { Readable } from "node:stream";
import { checkKey, type RecordingStorage, type StoredObject, type UploadedPart } from "./recording-storage.ts";

const UPLOADS = ".uploads";
const UPLOAD_ID = /^[0-9a-f-]{36}$/;

export class FileStorage implements RecordingStorage {
  readonly minPartSize = 1;

  constructor(readonly root: string) {}

  get url(): string {
    return `file://${this.root}`;
  }

  async check(): Promise<void> {
    mkdirSync(join(this.root, UPLOADS), { recursive: true, mode: 0o700 });
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    writeDurably(this.#path(key), [data]);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const p = this.#path(key);
    return existsSync(p) ? readFileSync(p) : undefined;
  }

  async open(key: string): Promise<StoredObject | undefined> {
    const p = this.#path(key);
    if (!existsSync(p)) return undefined;
    return { size: statSync(p).size, body: Readable.toWeb(createReadStream(p)) as ReadableStream<Uint8Array> };
  }

  async exists(key: string): Promise<boolean> {
    return existsSync(this.#path(key));
  }

  async delete(key: string): Promise<void> {
    rmSync(this.#path(key), { force: true });
  }

  async list(prefix: string): Promise<string[]> {
    const base = join(this.root, prefix.replace(/\/[^/]*$/, ""));
    if (!existsSync(base)) return [];
    return (readdirSync(base, { recursive: true, encoding: "utf8" }) as string[])
      .map((f) => relative(this.root, join(base, f)))
      .filter((k) => k.startsWith(prefix) && !k.split("/").some((s) => s.startsWith(".")) && statSync(join(this.root, k)).isFile())
      .sort();
  }

  async createUpload(key: string): Promise<string> {
    checkKey(key);
    const id = randomUUID();
    mkdirSync(this.#uploadDir(id), { recursive: true, mode: 0o700 });
    return id;
  }

  async uploadPart(_key: string, uploadId: string, n: number, data: Uint8Array): Promise<string> {
    const dir = this.#uploadDir(uploadId);
    if (!existsSync(dir)) throw new Error(`storage: no upload ${uploadId}`);
    const file = partFile(n);
    const crc = Bun.hash.crc32(data).toString(16);
    const at = appendOffset(dir, n);
    if (at === undefined) {
      // Out of order (or after parts a crash left as files): a file of its own, found first at completion.
      writeDurably(join(dir, file), [data]);
    } else {
      // Never truncated here: a late copy of an earlier part (same bytes, same offset) must
      // not cut parts written after it; completion cuts what lies past the last part.
      // Not O_APPEND, under which Linux ignores the offset.
      rmSync(join(dir, file), { force: true });
      const fd = openSync(join(dir, DATA), constants.O_RDWR | constants.O_CREAT, 0o600);
      try {
        writeAll(fd, data, at);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      writeDurably(join(dir, file + MARK), [Buffer.from(`${at} ${data.length} ${crc}\n`)]);
    }
    return `${n}-${data.length}-${crc}`;
  }

  async completeUpload(key: string, uploadId: string, parts: UploadedPart[]): Promise<void> {
    const dir = this.#uploadDir(uploadId);
    if (!existsSync(dir)) throw new Error(`storage: no upload ${uploadId}`);
    const placed = parts.map((p) => (existsSync(join(dir, partFile(p.n))) ? undefined : readMark(dir, p.n)));
    let end = 0;
    const inPlace = placed.every((m) => m !== undefined && m.at === end && ((end += m.size), true));
    if (inPlace && parts.length > 0) {
      // Every part lies in the data file in order: cut anything past the last, and rename.
      const path = this.#path(key);
      const fd = openSync(join(dir, DATA), "r+");
      try {
        const size = fstatSync(fd).size;
        if (size < end) throw new Error(`storage: upload ${uploadId} holds ${size} bytes, its parts ${end}`);
        if (size > end) {
          ftruncateSync(fd, end);
          fsyncSync(fd);
        }
      } finally {
        closeSync(fd);
      }
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      renameSync(join(dir, DATA), path);
      fsyncDir(dirname(path));
    } else {
      const data = existsSync(join(dir, DATA)) ? readFileSync(join(dir, DATA)) : undefined;
      const chunks = parts.map((p, i) => {
        const m = placed[i];
        if (!m) return readFileSync(join(dir, partFile(p.n)));
        if (!data || data.length < m.at + m.size) throw new Error(`storage: part ${p.n} of upload ${uploadId} is missing`);
        return data.subarray(m.at, m.at + m.size);
      });
      writeDurably(this.#path(key), chunks);
    }
    rmSync(dir, { recursive: true, force: true });
  }

  async abortUpload(_key: string, uploadId: string): Promise<void> {
    rmSync(this.#uploadDir(uploadId), { recursive: true, force: true });
  }

  /** Part files of an upload in progress (the shared suite checks one file per part). */
  partFiles(uploadId: string): string[] {
    const dir = this.#uploadDir(uploadId);
    return existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith("part-")).sort() : [];
  }

  #path(key: string): string {
    return join(this.root, checkKey(key));
  }

  #uploadDir(id: string): string {
    if (!UPLOAD_ID.test(id)) throw new Error(`storage: bad upload id ${JSON.stringify(id.slice(0, 60))}`);
    return join(this.root, UPLOADS, id);
  }
}

function partFile(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new Error(`storage: bad part number ${n}`);
  return `part-${String(n).padStart(5, "0")}`;
}

/** The upload's data file, and the suffix of a part's marker: "offset size crc" of a part written into it. */
const DATA = "data";
const MARK = ".at";

function readMark(dir: string, n: number): { at: number; size: number } | undefined {
  const p = join(dir, partFile(n) + MARK);
  if (!existsSync(p)) return undefined;
  const [at, size] = readFileSync(p, "utf8").trim().split(" ").map(Number);
  if (!Number.isSafeInteger(at) || !Number.isSafeInteger(size) || at! < 0 || size! < 0) throw new Error(`storage: bad part marker ${p}`);
  return { at: at!, size: size! };
}

/**
 * Where part n goes in the data file: right after part n-1 (at 0 for the first), when
 * that one is in the data file and no later part has been written; else undefined.
 */
function appendOffset(dir: string, n: number): number | undefined {
  const later = readdirSync(dir).some((f) => /^part-\d{5}/.test(f) && Number(f.slice(5, 10)) > n);
  if (later) return undefined;
  if (n === 1) return 0;
  if (existsSync(join(dir, partFile(n - 1)))) return undefined;
  const prev = readMark(dir, n - 1);
  return prev && prev.at + prev.size;
}

function writeAll(fd: number, data: Uint8Array, at: number): void {
  for (let done = 0; done < data.length;) done += writeSync(fd, data, done, data.length - done, at + done);
}

function fsyncDir(dir: string): void {
  const dfd = openSync(dir, "r");
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/** Writes chunks to a temporary file beside path, fsyncs it and its directory, renames. */
function writeDurably(path: string, chunks: Uint8Array[]): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
  const fd = openSync(tmp, "w", 0o600);
  try {
    for (const c of chunks) writeSync(fd, c);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}
