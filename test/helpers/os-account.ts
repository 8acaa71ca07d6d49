// A second OS account for logins that are not root (tests run as root in CI).
import { run } from "./process.ts";

export const TEST_LOGIN = "hwtest";

export async function ensureTestAccount(): Promise<void> {
  if ((await run(["id", TEST_LOGIN])).code === 0) return;
  const r = await run(["useradd", "--create-home", "--shell", "/bin/bash", TEST_LOGIN]);
  if (r.code !== 0 && (await run(["id", TEST_LOGIN])).code !== 0) throw new Error(`useradd ${TEST_LOGIN}: ${r.stderr}`);
}

/** A group for permission tests, with TEST_LOGIN as a member or not; returns its gid. */
export async function ensureTestGroup(name: string, member: boolean): Promise<number> {
  if ((await run(["getent", "group", name])).code !== 0) {
    const r = await run(["groupadd", name]);
    if (r.code !== 0 && (await run(["getent", "group", name])).code !== 0) throw new Error(`groupadd ${name}: ${r.stderr}`);
  }
  const r = await run(["gpasswd", member ? "-a" : "-d", TEST_LOGIN, name]);
  // gpasswd -d of a non-member fails; that is the state asked for.
  if (r.code !== 0 && member) throw new Error(`gpasswd -a ${TEST_LOGIN} ${name}: ${r.stderr}`);
  return Number((await run(["getent", "group", name])).stdout.split(":")[2]);
}
