// The node-mode spool on the agent's disk: <data_dir>/spool/<session>/ holds meta.json,
// at most one part being written (part-NNNNNN.open) and the sealed parts not yet
// uploaded (part-NNNNNN.gz). A session dir whose meta still says "recording" when no
// live session owns it was cut by a crash; recover() turns what reached the disk into
// sealed parts and marks it interrupted.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../platform/fs-atomic.ts";
import { gzipMember, salvageLines } from "../../recording/format/part-codec.ts";
import { eventLine } from "../../recording/format/recording-event.ts";
import { isSessionId } from "../../core/session-id.ts";

export type SpoolState = "recording" | "ended" | "interrupted";

export interface SpoolMeta {
  sid: string;
  server_id: string;
  user: string;
  login: string;
  kind: string;
  command?: string;
  mode: string;
  started: string;
  state: SpoolState;
}

const PART_FILE = /^part-(\d{6})\.gz$/;

export function spoolRoot(dataDir: string): string {
  return join(dataDir, "spool");
}

export function sessionDir(root: string, sid: string): string {
  if (!isSessionId(sid)) throw new Error(`spool: refusing session id ${JSON.stringify(sid.slice(0, 60))}`);
  return join(root, sid);
}

export function partName(n: number, sealed: boolean): string {
  return `part-${String(n).padStart(6, "0")}.${sealed ? "gz" : "open"}`;
}

export function readMeta(dir: string): SpoolMeta {
  return JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as SpoolMeta;
}

export function writeMeta(dir: string, meta: SpoolMeta): void {
  writeFileAtomic(join(dir, "meta.json"), JSON.stringify(meta) + "\n", 0o600);
  fsyncDir(dir);
}

/** Session ids with a spool directory, oldest name order (ids are random, so any order is fair). */
export function listSpooled(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root).filter(isSessionId).sort();
}

/** Sealed part numbers in order. */
export function sealedParts(dir: string): number[] {
  return readdirSync(dir).map((f) => PART_FILE.exec(f)).filter((m) => m !== null).map((m) => Number(m[1])).sort((a, b) => a - b);
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes a sealed part in one go (fsync, then rename into place, then the directory). */
export function writeSealedPart(dir: string, n: number, bytes: Uint8Array): void {
  writeFileAtomic(join(dir, partName(n, true)), bytes, 0o600);
  fsyncDir(dir);
}

/**
 * A session cut by a crash: the open part's whole lines become a sealed part, and a
 * `session.end` marked interrupted is added unless the session had ended. Returns the
 * number of events salvaged from the open part.
 */
export function recover(dir: string, now: Date): number {
  const meta = readMeta(dir);
  const sealed = sealedParts(dir);
  // The open part keeps its own number: the sealed parts before it may already be
  // uploaded (and gone from here) while this waited for disk space.
  const openNumbers = readdirSync(dir).filter((f) => /^part-\d{6}\.open$/.test(f)).map((f) => Number(f.slice(5, 11)));
  let next = Math.max((sealed.at(-1) ?? 0) + 1, ...openNumbers);
  let lastMs = 0;
  let ended = false;
  let salvaged = 0;
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".open") || f.endsWith(".tmp"))) {
    const path = join(dir, f);
    // An .open file beside a sealed part of the same number is the leftover of a seal
    // that was recompressing it: the sealed part holds all of it.
    if (f.endsWith(".open") && Number(f.slice(5, 11)) > (sealed.at(-1) ?? 0)) {
      const s = salvageLines(readFileSync(path));
      if (s.events > 0) {
        writeSealedPart(dir, next++, gzipMember(s.bytes));
        salvaged = s.events;
        lastMs = s.lastMs;
        ended = s.last?.event === "session.end";
      }
    }
    unlinkSync(path);
  }
  if (salvaged === 0 && sealed.length > 0) {
    const last = salvageLines(readFileSync(join(dir, partName(sealed.at(-1)!, true))));
    lastMs = last.lastMs;
    ended = last.last?.event === "session.end";
  }
  if (!ended) {
    const end = { event: "session.end" as const, ms: lastMs, time: now.toISOString(), interrupted: true, reason: "the agent stopped before the session ended" };
    writeSealedPart(dir, next, gzipMember(eventLine(end)));
  }
  writeMeta(dir, { ...meta, state: ended ? "ended" : "interrupted" });
  return salvaged;
}

/** Moves a session's spool aside (kept for inspection) so it no longer blocks anything. */
export function moveAside(dataDir: string, sid: string): string {
  const dest = join(dataDir, "spool-corrupt");
  mkdirSync(dest, { recursive: true, mode: 0o700 });
  const target = join(dest, `${sid}-${Date.now()}`);
  renameSync(sessionDir(spoolRoot(dataDir), sid), target);
  return target;
}

export function removeSession(root: string, sid: string): void {
  rmSync(sessionDir(root, sid), { recursive: true, force: true });
}
