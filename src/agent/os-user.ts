// Looks up an OS account (uid, gid, home, shell) through NSS with getent, so
// LDAP/SSSD users work as they do for sshd; falls back to /etc/passwd.
import { readFileSync } from "node:fs";

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

const NAME_RE = /^[a-z_][a-z0-9_.-]{0,31}\$?$/i;

export function lookupOsUser(name: string): OsUser | undefined {
  if (!NAME_RE.test(name)) return undefined;
  const line = getent(name) ?? readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(name + ":"));
  return line ? parsePasswdLine(line) : undefined;
}

export function parsePasswdLine(line: string): OsUser | undefined {
  const f = line.trim().split(":");
  if (f.length < 7) return undefined;
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) return undefined;
  return { name: f[0]!, uid, gid, home: f[5] || "/", shell: f[6] || "/bin/sh" };
}

function getent(name: string): string | undefined {
  try {
    const r = Bun.spawnSync(["getent", "passwd", name], { stderr: "ignore" });
    return r.exitCode === 0 ? r.stdout.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** The account this process runs as (os.userInfo() under Bun can report "unknown"). */
export function currentOsUser(): OsUser | undefined {
  const uid = process.getuid?.() ?? -1;
  const byUid = (line: string) => parsePasswdLine(line)?.uid === uid;
  try {
    const r = Bun.spawnSync(["getent", "passwd", String(uid)], { stderr: "ignore" });
    if (r.exitCode === 0) return parsePasswdLine(r.stdout.toString());
  } catch {
    // no getent: fall through
  }
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find(byUid);
  return line ? parsePasswdLine(line) : undefined;
}
