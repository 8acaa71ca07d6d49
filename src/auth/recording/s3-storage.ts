// s3://BUCKET/PREFIX recording storage through the minio client: one object per
// session, real multipart uploads (parts of at least 5 MiB except the last). Part
// bookkeeping is ours (RecordingStore), never ListParts. Credentials come from the
// auth service's environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY); agents never
// see them.
import { Client } from "minio";
import { Readable } from "node:stream";
import { checkKey, type RecordingStorage, type StoredObject, type UploadedPart } from "./recording-storage.ts";

export interface S3Location {
  bucket: string;
  prefix: string;
  endPoint: string;
  port?: number;
  useSSL: boolean;
  region: string;
  accessKey: string;
  secretKey: string;
}

export class S3Storage implements RecordingStorage {
  readonly minPartSize = 5 * 1024 * 1024;
  readonly #c: Client;

  constructor(readonly url: string, private readonly loc: S3Location) {
    this.#c = new Client({
      endPoint: loc.endPoint, port: loc.port, useSSL: loc.useSSL, region: loc.region,
      accessKey: loc.accessKey, secretKey: loc.secretKey, pathStyle: true,
    });
  }

  async check(): Promise<void> {
    if (!(await this.#c.bucketExists(this.loc.bucket))) throw new Error(`bucket ${this.loc.bucket} does not exist`);
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    await this.#c.putObject(this.loc.bucket, this.#key(key), Buffer.from(data.buffer, data.byteOffset, data.length), data.length);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const o = await this.open(key);
    return o ? new Uint8Array(await new Response(o.body).arrayBuffer()) : undefined;
  }

  async open(key: string): Promise<StoredObject | undefined> {
    try {
      const stat = await this.#c.statObject(this.loc.bucket, this.#key(key));
      const stream = await this.#c.getObject(this.loc.bucket, this.#key(key));
      return { size: stat.size, body: Readable.toWeb(stream) as ReadableStream<Uint8Array> };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.#c.statObject(this.loc.bucket, this.#key(key));
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await this.#c.removeObject(this.loc.bucket, this.#key(key));
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const full = this.loc.prefix + prefix;
    for await (const o of this.#c.listObjectsV2(this.loc.bucket, full, true)) {
      if (o.name) out.push(o.name.slice(this.loc.prefix.length));
    }
    return out.sort();
  }

  async createUpload(key: string): Promise<string> {
    return this.#c.initiateNewMultipartUpload(this.loc.bucket, this.#key(key), {});
  }

  async uploadPart(key: string, uploadId: string, n: number, data: Uint8Array): Promise<string> {
    const res = await this.#c.uploadPart({ bucketName: this.loc.bucket, objectName: this.#key(key), uploadID: uploadId, partNumber: n, headers: {} },
      Buffer.from(data.buffer, data.byteOffset, data.length));
    return res.etag;
  }

  async completeUpload(key: string, uploadId: string, parts: UploadedPart[]): Promise<void> {
    await this.#c.completeMultipartUpload(this.loc.bucket, this.#key(key), uploadId, parts.map((p) => ({ part: p.n, etag: p.etag })));
  }

  async abortUpload(key: string, uploadId: string): Promise<void> {
    try {
      await this.#c.abortMultipartUpload(this.loc.bucket, this.#key(key), uploadId);
    } catch (e) {
      // An upload that no longer exists is as good as aborted. (s3rver 3.7 answers
      // MethodNotAllowed to AbortMultipartUpload; its parts are then left to it.)
      const code = (e as { code?: string }).code;
      if (code !== "NoSuchUpload" && code !== "MethodNotAllowed" && code !== "NotImplemented") throw e;
    }
  }

  #key(key: string): string {
    return this.loc.prefix + checkKey(key);
  }
}

function isNotFound(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === "NotFound" || code === "NoSuchKey";
}
