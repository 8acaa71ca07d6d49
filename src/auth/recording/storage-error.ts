// Marks failures of the recording storage backend (disk, S3) as such, so the API can
// answer them 503 (the agent keeps its data and retries) and any other error — a bug —
// stays a 500 with a log line instead of passing for an outage.
import type { RecordingStorage } from "./recording-storage.ts";

export class StorageError extends Error {
  override name = "StorageError";
  constructor(readonly op: string, override readonly cause: unknown) {
    super(`${op}: ${cause instanceof Error ? cause.message : String(cause)}`);
    if (cause instanceof Error && cause.stack) this.stack = `${this.name}: ${this.message}\n  caused by ${cause.stack}`;
  }
}

/** The same storage, with every failure of its I/O turned into a StorageError. */
export function withStorageErrors(s: RecordingStorage): RecordingStorage {
  const wrap = <A extends unknown[], R>(op: string, fn: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    try {
      return await fn(...a);
    } catch (e) {
      throw e instanceof StorageError ? e : new StorageError(op, e);
    }
  };
  return {
    url: s.url,
    minPartSize: s.minPartSize,
    check: wrap("check", () => s.check()),
    put: wrap("put", (k: string, d: Uint8Array) => s.put(k, d)),
    get: wrap("get", (k: string) => s.get(k)),
    open: wrap("open", (k: string) => s.open(k)),
    exists: wrap("exists", (k: string) => s.exists(k)),
    delete: wrap("delete", (k: string) => s.delete(k)),
    list: wrap("list", (p: string) => s.list(p)),
    createUpload: wrap("createUpload", (k: string) => s.createUpload(k)),
    uploadPart: wrap("uploadPart", (k: string, id: string, n: number, d: Uint8Array) => s.uploadPart(k, id, n, d)),
    completeUpload: wrap("completeUpload", (k: string, id: string, parts: Parameters<RecordingStorage["completeUpload"]>[2]) => s.completeUpload(k, id, parts)),
    abortUpload: wrap("abortUpload", (k: string, id: string) => s.abortUpload(k, id)),
  };
}
