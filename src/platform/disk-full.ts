// Whether an I/O error means "no space left" (the file system or SQLite): that is a
// condition to wait out, never evidence of corruption.
const NO_SPACE = new Set(["ENOSPC", "EDQUOT", "SQLITE_FULL"]);

export function isDiskFull(e: unknown): boolean {
  return typeof e === "object" && e !== null && NO_SPACE.has(String((e as { code?: unknown }).code));
}
