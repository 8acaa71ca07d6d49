// The file:// backend runs the shared storage suite; each part of an upload in progress
// is its own file until completion.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStorage } from "../../src/auth/recording/file-storage.ts";
import { storageSuite } from "./storage-suite.ts";

storageSuite("file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hostward-files-"));
  const storage = new FileStorage(join(dir, "recordings"));
  return { storage, partFiles: (id) => storage.partFiles(id), close: async () => rmSync(dir, { recursive: true, force: true }) };
});
