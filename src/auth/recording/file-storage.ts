// file://DIR recording storage. Objects are files under DIR; an upload in progress
// keeps each part in its own file under DIR/.uploads/<id>/, and completion
// concatenates them into a temporary file that is fsynced and renamed into place,
// so an object is either whole or absent.
import { randomUUID } from "node:crypto";
import { closeSync, createReadStream, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from "node:fs";
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
    writeDurably(join(dir, partFile(n)), [data]);
    return `${n}-${data.length}-${Bun.hash.crc32(data).toString(16)}`;
  }

  async completeUpload(key: string, uploadId: string, parts: UploadedPart[]): Promise<void> {
    const dir = this.#uploadDir(uploadId);
    if (!existsSync(dir)) throw new Error(`storage: no upload ${uploadId}`);
    const chunks = parts.map((p) => readFileSync(join(dir, partFile(p.n))));
    writeDurably(this.#path(key), chunks);
    rmSync(dir, { recursive: true, force: true });
  }

  async abortUpload(_key: string, uploadId: string): Promise<void> {
    rmSync(this.#uploadDir(uploadId), { recursive: true, force: true });
  }

  /** Part files of an upload in progress (the shared suite checks one file per part). */
  partFiles(uploadId: string): string[] {
    const dir = this.#uploadDir(uploadId);
    return existsSync(dir) ? readdirSync(dir).sort() : [];
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
  const dfd = openSync(dirname(path), "r");
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}
