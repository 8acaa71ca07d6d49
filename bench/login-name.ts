// The current user's name, as hostward logs them in (os.userInfo() under Bun can say "unknown").
import { runCaptured } from "./run-captured.ts";

export async function loginName(): Promise<string> {
  const r = await runCaptured(["id", "-un"], 10_000);
  if (r.code !== 0 || !r.stdout.trim()) throw new Error("cannot find the current user's name (id -un)");
  return r.stdout.trim();
}
