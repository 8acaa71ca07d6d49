// Build identity, printed by `hostward version`. The build script may define
// HOSTWARD_COMMIT; from a checkout it is read from git at run time.
export const VERSION = "0.1.0";

export function gitCommit(): string {
  const baked = process.env.HOSTWARD_COMMIT;
  if (baked) return baked;
  try {
    const r = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: import.meta.dir, stderr: "ignore" });
    return r.exitCode === 0 ? r.stdout.toString().trim() : "unknown";
  } catch {
    return "unknown";
  }
}
