// A Debian 13 (trixie) root with its OpenSSH 10 client, for the ML-KEM interop check:
// made once with debootstrap from this machine's own apt mirror, kept outside the repo
// (HOSTWARD_TRIXIE_ROOT, default /var/cache/hostward-test/trixie), run with chroot.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, copyFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { run, type RunResult } from "./process.ts";

export const TRIXIE_ROOT = process.env.HOSTWARD_TRIXIE_ROOT || "/var/cache/hostward-test/trixie";
const DEBOOTSTRAP_TIMEOUT_MS = 15 * 60_000;

/** The chroot, created first if missing (a few minutes); throws with debootstrap's tail on failure. */
export async function ensureTrixieRoot(root = TRIXIE_ROOT): Promise<string> {
  if (existsSync(join(root, "usr/bin/ssh"))) return root;
  mkdirSync(dirname(root), { recursive: true });
  // Built beside and renamed, so a run cut short never leaves a half-made root in place.
  const tmp = mkdtempSync(`${root}.tmp-`);
  const r = await run(["debootstrap", "--variant=minbase", "--include=openssh-client", "trixie", tmp, aptMirror()], { timeoutMs: DEBOOTSTRAP_TIMEOUT_MS });
  if (r.code !== 0 || !existsSync(join(tmp, "usr/bin/ssh"))) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`debootstrap trixie failed (${r.code}): ${(r.stdout + r.stderr).slice(-1500)}`);
  }
  renameSync(tmp, root);
  return root;
}

/** The first non-security Debian mirror this machine's apt uses (deb822 or one-line sources). */
export function aptMirror(): string {
  const files = ["/etc/apt/sources.list", ...listSources("/etc/apt/sources.list.d")];
  for (const f of files) {
    if (!existsSync(f)) continue;
    const text = readFileSync(f, "utf8");
    for (const stanza of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1] ?? "";
      if (uri && !suites.includes("security")) return uri;
    }
    for (const line of text.split("\n")) {
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
      if (m && !m[2]!.includes("security")) return m[1]!;
    }
  }
  throw new Error("no Debian mirror found in /etc/apt/sources.list{,.d}");
}

function listSources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".sources") || f.endsWith(".list")).map((f) => join(dir, f));
}

/** Copies files into a fresh directory under the root's /tmp; returns its path as seen inside. */
export function stageInRoot(root: string, files: string[]): { inside: string; outside: string; path(f: string): string } {
  const outside = mkdtempSync(join(root, "tmp", "hostward-"));
  for (const f of files) copyFileSync(f, join(outside, basename(f)));
  const inside = "/" + outside.slice(root.length).replace(/^\/+/, "");
  return { inside, outside, path: (f) => `${inside}/${basename(f)}` };
}

/** Runs argv inside the root with chroot. */
export function inRoot(root: string, argv: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
  return run(["chroot", root, ...argv], opts);
}

