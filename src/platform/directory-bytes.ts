// The bytes of the files under a directory (e.g. the recording spool), for health
// reports; a directory that is missing or changing under us counts what it can.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export function directoryBytes(dir: string): number {
  let total = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) total += directoryBytes(path);
    else if (e.isFile()) {
      try {
        total += statSync(path).size;
      } catch {
        // removed since the listing (an upload finished): nothing to count
      }
    }
  }
  return total;
}
