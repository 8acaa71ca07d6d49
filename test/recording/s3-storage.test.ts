// The s3:// backend runs the shared storage suite against a real S3-compatible server
// (s3rver) started by the test, through the minio client with real multipart uploads.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { storageFromUrl } from "../../src/auth/recording/storage-from-url.ts";
import { S3Server, S3_ENV } from "../helpers/s3-server.ts";
import { storageSuite } from "./storage-suite.ts";

storageSuite("s3 (s3rver)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hostward-s3-"));
  const s3 = new S3Server(join(dir, "s3"));
  await s3.start();
  return {
    storage: storageFromUrl(s3.url("suite"), S3_ENV),
    close: async () => {
      await s3.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
