// Builds the recording storage named by auth.toml's recordings.storage:
// file:///DIR or s3://BUCKET/PREFIX?endpoint=HOST:PORT&region=…&insecure=1.
// Takes the URL and the environment (for S3 credentials); reads nothing else.
import { FileStorage } from "./file-storage.ts";
import type { RecordingStorage } from "./recording-storage.ts";
import { S3Storage } from "./s3-storage.ts";

export function storageFromUrl(url: string, env: Record<string, string | undefined>): RecordingStorage {
  const file = /^file:\/\/(\/.*)$/.exec(url);
  if (file) return new FileStorage(file[1]!.replace(/\/+$/, "") || "/");
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`recordings.storage: cannot parse ${JSON.stringify(url.slice(0, 100))}`);
  }
  if (u.protocol !== "s3:") throw new Error(`recordings.storage: expected file:// or s3://, got ${JSON.stringify(url.slice(0, 100))}`);
  const q = u.searchParams;
  const endpoint = q.get("endpoint") ?? "s3.amazonaws.com";
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(endpoint);
  if (!m) throw new Error(`recordings.storage: endpoint must be HOST or HOST:PORT, got ${JSON.stringify(endpoint)}`);
  const accessKey = env.AWS_ACCESS_KEY_ID ?? "";
  const secretKey = env.AWS_SECRET_ACCESS_KEY ?? "";
  if (!accessKey || !secretKey) throw new Error("recordings.storage: s3 needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the auth service's environment");
  const prefix = decodeURIComponent(u.pathname.replace(/^\/+/, ""));
  const shown = `s3://${u.hostname}/${prefix}`;
  return new S3Storage(shown, {
    bucket: u.hostname,
    prefix: prefix && !prefix.endsWith("/") ? prefix + "/" : prefix,
    endPoint: m[1]!.replace(/^\[|\]$/g, ""),
    port: m[2] ? Number(m[2]) : undefined,
    useSSL: q.get("insecure") !== "1" && q.get("insecure") !== "true",
    region: q.get("region") ?? env.AWS_REGION ?? "us-east-1",
    accessKey, secretKey,
  });
}
