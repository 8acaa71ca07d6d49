// The recording encoder worker: turns batches of session events (written by the main
// thread, see session-recording.ts) into gzip members. node mode appends members to the spool's open part (fsync at least
// every second, and at every part boundary); sync mode hands each part back to the
// main thread to send to the auth service.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { FromWorker, ToWorker } from "./encoder-protocol.ts";
import { gzipMember } from "../../recording/format/part-codec.ts";
import { fsyncDir, partName, writeMeta, writeSealedPart, type SpoolMeta } from "./spool.ts";

declare const self: Worker;

const FSYNC_EVERY_MS = 500;
/** A part this small is recompressed as one member when sealed (better ratio for interactive sessions). */
const RECOMPRESS_MAX = 1024 * 1024;
/** A node-mode part is also sealed at this much NDJSON, so checking one stays cheap. */
const PART_RAW_LIMIT = 64 * 1024 * 1024;

interface Session {
  sid: string;
  mode: "node" | "sync";
  dir?: string;
  meta?: SpoolMeta;
  partLimit: number;
  part: number;
  fd?: number;
  members: Uint8Array[];
  partBytes: number;
  partRaw: number;
  /** The part's NDJSON while it is small enough to recompress; undefined past that. */
  keep?: Uint8Array[];
  membersInPart: number;
  lastMs: number;
  lastFsync: number;
  fsyncTimer?: Timer;
  dirty: boolean;
}

const sessions = new Map<string, Session>();

const post = (m: FromWorker, transfer: Bun.Transferable[] = []) => self.postMessage(m, transfer);

self.onmessage = (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  try {
    if (m.op === "open") open(m);
    else if (m.op === "batch") batch(m.sid, m.buf, m.len, m.lastMs);
    else if (m.op === "end") end(m.sid, m.endLine);
  } catch (e) {
    fail(m.sid, e as Error);
    if (m.op === "batch") post({ op: "done", sid: m.sid, bytes: m.len });
  }
};

/**
 * A spool write failed (a full disk, most often): the session is cut by the main thread,
 * and here it is dropped with its meta still "recording", so the uploader salvages its
 * open part and finishes it as interrupted once there is room. What is sealed stays as it is.
 */
function fail(sid: string, e: Error): void {
  post({ op: "error", sid, message: e.message });
  const s = sessions.get(sid);
  if (s?.mode !== "node") return;
  clearTimeout(s.fsyncTimer);
  try {
    if (s.fd !== undefined) closeSync(s.fd);
  } catch {
    // already closed
  }
  sessions.delete(sid);
  post({ op: "closed", sid, parts: s.part - 1 });
}

function open(m: Extract<ToWorker, { op: "open" }>): void {
  const s: Session = { sid: m.sid, mode: m.mode, dir: m.dir, meta: m.meta as SpoolMeta, partLimit: m.partLimit, part: 1, members: [], partBytes: 0, partRaw: 0, keep: [], membersInPart: 0, lastMs: 0, lastFsync: 0, dirty: false };
  sessions.set(m.sid, s);
  if (s.mode === "node") {
    mkdirSync(s.dir!, { recursive: true, mode: 0o700 });
    writeMeta(s.dir!, s.meta!);
  }
  append(m.sid, s, m.startLine);
}

function batch(sid: string, buf: ArrayBuffer, len: number, lastMs: number): void {
  const s = sessions.get(sid);
  if (!s) return post({ op: "done", sid, bytes: len }); // dropped after a failure: release the sender
  if (lastMs > s.lastMs) s.lastMs = lastMs;
  append(sid, s, new Uint8Array(buf, 0, len));
  // Everything taken from the batch has been copied (compressed, or kept for the seal): it goes back.
  post({ op: "done", sid, bytes: len, buf }, [buf]);
}

function end(sid: string, endLine: string): void {
  const s = sessions.get(sid);
  if (!s) return;
  append(sid, s, endLine, true);
  if (s.mode === "node") seal(sid, s, true);
  if (s.mode === "node") writeMeta(s.dir!, { ...s.meta!, state: "ended" });
  clearTimeout(s.fsyncTimer);
  sessions.delete(sid);
  post({ op: "closed", sid, parts: s.part - 1 });
}

function append(sid: string, s: Session, text: string | Uint8Array, final = false): void {
  if (text.length === 0) return;
  const raw = typeof text === "string" ? Buffer.from(text) : text;
  const member = gzipMember(raw);
  if (s.mode === "node") {
    s.fd ??= openSync(join(s.dir!, partName(s.part, false)), "a", 0o600);
    writeSync(s.fd, member);
    s.dirty = true;
    scheduleFsync(s);
  } else {
    s.members.push(member);
  }
  s.partBytes += member.length;
  s.partRaw += raw.length;
  s.membersInPart++;
  if (s.keep && s.partRaw <= RECOMPRESS_MAX) s.keep.push(raw.slice());
  else s.keep = undefined;
  if (s.mode === "sync") seal(sid, s, final);
  else if ((s.partBytes >= s.partLimit || s.partRaw >= PART_RAW_LIMIT) && !final) seal(sid, s, false);
}

/** Ends the current part: node mode fsyncs and renames it to .gz; sync mode posts it. */
function seal(sid: string, s: Session, final: boolean): void {
  if (s.mode === "node") {
    if (s.fd === undefined) return;
    fsyncSync(s.fd);
    closeSync(s.fd);
    s.fd = undefined;
    s.dirty = false;
    const open = join(s.dir!, partName(s.part, false));
    if (s.keep && s.membersInPart > 1) {
      writeSealedPart(s.dir!, s.part, gzipMember(Buffer.concat(s.keep), 9));
      unlinkSync(open);
    } else renameSync(open, join(s.dir!, partName(s.part, true)));
    fsyncDir(s.dir!);
    post({ op: "sealed", sid, n: s.part });
  } else {
    if (s.members.length === 0) return;
    const bytes = concat(s.members);
    s.members = [];
    post({ op: "part", sid, n: s.part, bytes: bytes.buffer as ArrayBuffer, lastMs: s.lastMs, final }, [bytes.buffer as ArrayBuffer]);
  }
  s.part++;
  s.partBytes = 0;
  s.partRaw = 0;
  s.keep = [];
  s.membersInPart = 0;
}

function scheduleFsync(s: Session): void {
  const due = s.lastFsync + FSYNC_EVERY_MS - performance.now();
  if (due <= 0) return fsyncNow(s);
  s.fsyncTimer ??= setTimeout(() => {
    s.fsyncTimer = undefined;
    try {
      fsyncNow(s);
    } catch (e) {
      fail(s.sid, e as Error);
    }
  }, due);
}

function fsyncNow(s: Session): void {
  if (s.fd !== undefined && s.dirty) fsyncSync(s.fd);
  s.dirty = false;
  s.lastFsync = performance.now();
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
