// Where finished recordings and in-progress uploads live, behind the auth service.
// Two implementations (file-storage.ts, s3-storage.ts) run one shared test suite
// (test/recording/storage-suite.ts). Keys are relative paths of [A-Za-z0-9._-]
// segments; the callers build them from checked session ids.

export interface UploadedPart {
  n: number;
  etag: string;
}

export interface StoredObject {
  size: number;
  /** The object's bytes, streamed. */
  body: ReadableStream<Uint8Array>;
}

export interface RecordingStorage {
  /** "file:///…" or "s3://…", for logs and status. */
  readonly url: string;
  /** Smallest multipart part the backend accepts (except the last). */
  readonly minPartSize: number;

  /** Checks the backend is reachable and usable (bucket exists, directory writable). */
  check(): Promise<void>;

  put(key: string, data: Uint8Array): Promise<void>;
  /** The whole object, or undefined when there is none. */
  get(key: string): Promise<Uint8Array | undefined>;
  open(key: string): Promise<StoredObject | undefined>;
  exists(key: string): Promise<boolean>;
  /** Deleting what is not there is not an error. */
  delete(key: string): Promise<void>;
  /** Keys under a prefix, sorted. */
  list(prefix: string): Promise<string[]>;

  createUpload(key: string): Promise<string>;
  /** Part numbers start at 1; uploading the same number again replaces it. */
  uploadPart(key: string, uploadId: string, n: number, data: Uint8Array): Promise<string>;
  /** Makes the object from the parts in order, atomically: before, there is no object. */
  completeUpload(key: string, uploadId: string, parts: UploadedPart[]): Promise<void>;
  abortUpload(key: string, uploadId: string): Promise<void>;
}

const KEY = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** Refuses keys that could leave the storage root. */
export function checkKey(key: string): string {
  if (!KEY.test(key) || key.split("/").some((seg) => seg === "." || seg === "..") || key.length > 512) {
    throw new Error(`storage: refusing key ${JSON.stringify(key.slice(0, 80))}`);
  }
  return key;
}

export const recordingKey = (sid: string) => `sessions/${sid}.ndjson.gz`;
export const stagingKey = (sid: string, part: number) => `staging/${sid}/${String(part).padStart(6, "0")}.gz`;
export const corruptKey = (sid: string, part: number) => `corrupt/${sid}/${String(part).padStart(6, "0")}.gz`;
