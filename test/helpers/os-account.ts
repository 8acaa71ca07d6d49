// A second OS account for logins that are not root (tests run as root in CI).
import { run } from "./process.ts";

export const TEST_LOGIN = "hwtest";

export async function ensureTestAccount(): Promise<void> {
  if ((await run(["id", TEST_LOGIN])).code === 0) return;
  const r = await run(["useradd", "--create-home", "--shell", "/bin/bash", TEST_LOGIN]);
  if (r.code !== 0 && (await run(["id", TEST_LOGIN])).code !== 0) throw new Error(`useradd ${TEST_LOGIN}: ${r.stderr}`);
}
