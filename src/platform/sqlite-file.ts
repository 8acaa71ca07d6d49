// Opens a SQLite database file the way every hostward store does: the file is 0600 (its
// -wal and -shm follow the file's mode), and an error about the file names the file.
import { Database } from "bun:sqlite";
import { chmodSync, closeSync, existsSync, openSync, statSync } from "node:fs";

export interface SqliteOpenNotice {
  /** The file was there but empty (truncated): SQLite starts it anew, and the caller says so. */
  emptied: boolean;
}

/** Opens (creating 0600) and runs `setup`; "file is not a database" becomes "PATH: file is not a database". */
export function openSqliteFile(path: string, setup: string): { db: Database; notice: SqliteOpenNotice } {
  const existed = existsSync(path);
  const emptied = existed && statSync(path).size === 0;
  if (!existed) closeSync(openSync(path, "a", 0o600));
  // Older installs made these 0644: tighten them on every open.
  for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
  let db: Database | undefined;
  try {
    db = new Database(path, { create: true, strict: true });
    db.exec(setup);
    return { db, notice: { emptied } };
  } catch (e) {
    db?.close();
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}
