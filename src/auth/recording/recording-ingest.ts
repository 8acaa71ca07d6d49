// The auth service's side of recording uploads. Agents send numbered parts in order;
// each is checked (gzip + event lines) before it is kept. Parts smaller than the
// backend's minimum (5 MiB on S3) are staged as small objects until they add up to a
// storage part, so what an agent was told is durable is in storage, not in memory.
// The bookkeeping is in RecordingStore, so any restart resumes part by part.
import { createHash } from "node:crypto";
import type { RecordingRecord, RecordingStore } from "./recording-store.ts";
import type { Logger } from "../../platform/logger.ts";
import { checkPart } from "../../recording/format/part-codec.ts";
import type { PartCheckFn } from "./part-checker.ts";
import { corruptKey, recordingKey, stagingKey, type RecordingStorage } from "./recording-storage.ts";
import { withStorageErrors } from "./storage-error.ts";

/** An open upload with no part for this long is abandoned (its node-sync agent died, or its node is gone). */
export const ABANDON_SYNC_MS = 60 * 60_000;
export const ABANDON_NODE_MS = 7 * 24 * 3600_000;

export class IngestError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface OpenRequest {
  serverId: string;
  sessionId: string;
  user: string;
  login: string;
  kind: string;
  command?: string;
  truncated?: string[];
  mode: string;
  started: Date;
}

export type AuditSink = (fields: { event: string; code: string; [k: string]: unknown }) => void | Promise<void>;

/** Evidence at risk, counted for the operator: a corrupt part that could not be kept aside, a staged object left behind. */
export type IngestProblem = "corrupt_part_not_kept" | "staging_object_leaked" | "staging_object_removed" | "record_changed_meanwhile";

export class RecordingIngest {
  readonly #chains = new Map<string, Promise<unknown>>();
  /** The backend, whose every failure is a StorageError (503), unlike our own bugs (500). */
  readonly storage: RecordingStorage;

  constructor(private readonly store: RecordingStore, storage: RecordingStorage, private readonly audit: AuditSink,
    private readonly log: Logger, private readonly now: () => Date = () => new Date(),
    private readonly count: (problem: IngestProblem) => void = () => {},
    /** Inflates and checks a part; the auth service runs it on a worker thread (PartChecker). */
    private readonly check: PartCheckFn = async (b) => ({ check: checkPart(b), bytes: b })) {
    this.storage = withStorageErrors(storage);
  }

  /** Creates the upload's record, or returns the existing one (idempotent). */
  async open(req: OpenRequest): Promise<RecordingRecord> {
    const existing = await this.store.getRecording(req.sessionId);
    if (existing) {
      if (existing.serverId !== req.serverId) throw new IngestError(403, "this session's recording belongs to another node");
      return existing;
    }
    const r: RecordingRecord = {
      sessionId: req.sessionId, serverId: req.serverId, user: req.user, login: req.login, kind: req.kind, command: req.command,
      ...(req.truncated ? { truncated: req.truncated } : {}), mode: req.mode, startedAt: req.started, state: "open", interrupted: false, key: recordingKey(req.sessionId),
      nextPart: 1, storageParts: [], staged: [], bytes: 0, events: 0, durationMs: 0, updatedAt: this.now(), version: 1,
    };
    // Another replica may open it at the same moment (a retried request): the first wins.
    if (await this.store.putRecording(r, 0)) return r;
    return this.open(req);
  }

  /** `sent` may be lent to the checker (its memory moved to a worker and back): the caller must not use it afterwards. */
  putPart(serverId: string, sid: string, n: number, sent: Uint8Array): Promise<RecordingRecord> {
    return this.#serial(sid, async () => {
      const r = await this.#own(serverId, sid);
      if (r.state === "corrupt") throw new IngestError(422, `recording is marked corrupt: ${r.reason}`);
      if (n < r.nextPart) return r;
      if (r.state === "complete") throw new IngestError(409, "recording is already complete");
      if (n > r.nextPart) throw new IngestError(409, `expected part ${r.nextPart}, got ${n}`);
      const { check, bytes } = await this.check(sent);
      if (!check.ok) {
        await this.#corrupt(r, `part ${n}: ${check.reason}`, bytes, n);
        throw new IngestError(422, `part ${n} is corrupt: ${check.reason}`);
      }
      const received = () => {
        r.nextPart = n + 1;
        r.bytes += bytes.length;
        r.events += check.events;
        // A session the agent cut ends with session.end {interrupted, reason}: the record says so too.
        if (check.last?.event === "session.end" && check.last.interrupted) {
          r.interrupted = true;
          r.reason ??= check.last.reason;
        }
        r.durationMs = Math.max(r.durationMs, check.lastMs);
        r.updatedAt = this.now();
      };
      // Every record written says where part n is together with nextPart: a replica that
      // dies between two writes leaves either no trace of the part (it is sent again) or
      // the part counted in full, never its bytes in storage with nextPart still n (sent
      // again, they would be stored twice).
      const stagedBytes = r.staged.reduce((t, s) => t + s.size, 0);
      if (r.staged.length === 0 && bytes.length >= this.storage.minPartSize) {
        await this.#storagePart(r, bytes);
        received();
      } else {
        const key = stagingKey(sid, n);
        await this.storage.put(key, bytes);
        r.staged.push({ part: n, key, size: bytes.length });
        received();
        if (stagedBytes + bytes.length >= this.storage.minPartSize) await this.#flushStaged(r);
      }
      await this.#save(r);
      return r;
    });
  }

  complete(serverId: string, sid: string, parts: number, interrupted: boolean, reason?: string): Promise<RecordingRecord> {
    return this.#serial(sid, async () => {
      const r = await this.#own(serverId, sid);
      if (r.state !== "open") return r;
      if (parts !== r.nextPart - 1) throw new IngestError(409, `have parts up to ${r.nextPart - 1}, not ${parts}`);
      return this.#finish(r, interrupted, reason);
    });
  }

  /** An agent found its spool of this session corrupt. */
  reportCorrupt(serverId: string, sid: string, reason: string): Promise<RecordingRecord> {
    return this.#serial(sid, async () => {
      const r = await this.#own(serverId, sid);
      if (r.state === "open") await this.#corrupt(r, `on the node: ${reason}`);
      return r;
    });
  }

  /** Finishes, as interrupted, node-sync uploads a restarted agent can no longer continue. */
  async finishOrphans(serverId: string, reason: string): Promise<number> {
    let n = 0;
    for (const r of await this.store.openRecordings(serverId)) {
      if (r.mode !== "node-sync") continue;
      await this.#serial(r.sessionId, async () => {
        const cur = await this.store.getRecording(r.sessionId);
        if (cur?.state === "open") {
          await this.#finish(cur, true, reason);
          n++;
        }
      });
    }
    return n;
  }

  /**
   * Abandoned uploads: finished as interrupted with what they hold (evidence is kept);
   * one that never received a part has its storage upload aborted and is dropped.
   */
  async sweep(): Promise<{ finished: number; dropped: number }> {
    const now = this.now().getTime();
    let finished = 0;
    let dropped = 0;
    for (const r of await this.store.openRecordings()) {
      const idle = now - r.updatedAt.getTime();
      if (idle < (r.mode === "node-sync" ? ABANDON_SYNC_MS : ABANDON_NODE_MS)) continue;
      await this.#serial(r.sessionId, async () => {
        const cur = await this.store.getRecording(r.sessionId);
        if (cur?.state !== "open") return;
        if (cur.nextPart === 1) {
          if (cur.uploadId) await this.storage.abortUpload(cur.key, cur.uploadId);
          await this.store.deleteRecording(cur.sessionId);
          dropped++;
        } else {
          await this.#finish(cur, true, `upload abandoned: no part for ${Math.round(idle / 60_000)} minutes`);
          finished++;
        }
      });
    }
    if (finished + dropped > 0) this.log.warn("abandoned recording uploads swept", { finished, dropped });
    await this.sweepStaging();
    return { finished, dropped };
  }

  /**
   * Staged objects no upload refers to (left by a failed delete or a crash between
   * storing and recording them): each is logged, counted and removed. What they held
   * is in a storage part already, or the agent sends that part again. An open upload's
   * objects wait until it is finished: one it does not list yet may be a part another
   * replica is storing right now (its chain is not ours to wait on).
   */
  async sweepStaging(): Promise<number> {
    const bySession = new Map<string, string[]>();
    for (const key of await this.storage.list("staging/")) {
      const sid = key.split("/")[1] ?? "";
      bySession.set(sid, [...(bySession.get(sid) ?? []), key]);
    }
    let removed = 0;
    for (const [sid, keys] of bySession) {
      await this.#serial(sid, async () => {
        const r = await this.store.getRecording(sid);
        if (r?.state === "open") return;
        for (const key of keys) {
          this.count("staging_object_removed");
          this.log.warn("removed a staging object no upload refers to", { session: sid, key, recording: r?.state ?? "none" });
          await this.storage.delete(key);
          removed++;
        }
      });
    }
    return removed;
  }

  /** Deletes a recording and anything of its upload still in storage. */
  remove(sid: string, actor: string): Promise<boolean> {
    return this.#serial(sid, async () => {
      const r = await this.store.getRecording(sid);
      if (!r) return false;
      if (r.state === "open" && r.uploadId) await this.storage.abortUpload(r.key, r.uploadId);
      for (const s of r.staged) await this.storage.delete(s.key);
      await this.storage.delete(r.key);
      await this.store.deleteRecording(sid);
      await this.audit({ event: "recording.delete", code: "T2006I", user: actor, sid, recording_user: r.user, server_id: r.serverId });
      return true;
    });
  }

  /**
   * Completes the object, audits, then marks the record finished. A replica may die
   * anywhere in between and another finish it again: the upload it finds completed
   * already is taken as done, and the event has the same uid both times (stored once).
   */
  async #finish(r: RecordingRecord, interrupted: boolean, reason?: string): Promise<RecordingRecord> {
    await this.#flushStaged(r);
    if (r.uploadId) await this.#completeUpload(r, r.uploadId);
    else await this.storage.put(r.key, new Uint8Array());
    r.state = r.state === "corrupt" ? "corrupt" : "complete";
    r.interrupted = r.interrupted || interrupted;
    if (reason && !r.reason) r.reason = reason;
    r.uploadId = undefined;
    r.completedAt = r.updatedAt = this.now();
    await this.audit({
      uid: onceUid("session.upload", r.sessionId),
      event: "session.upload", code: "T2005I", sid: r.sessionId, server_id: r.serverId, user: r.user, login: r.login,
      url: `${this.storage.url.replace(/\/+$/, "")}/${r.key}`, bytes: r.bytes, events: r.events, duration_ms: r.durationMs,
      interrupted: r.interrupted, state: r.state, ...(r.reason ? { reason: r.reason } : {}),
    });
    await this.#save(r);
    this.log.info("session recording is durable", { session: r.sessionId, bytes: r.bytes, state: r.state, interrupted: r.interrupted });
    return r;
  }

  /** Completes the storage upload; one a replica completed before dying (the object exists) is done. */
  async #completeUpload(r: RecordingRecord, uploadId: string): Promise<void> {
    try {
      await this.storage.completeUpload(r.key, uploadId, r.storageParts);
    } catch (e) {
      if (!(await this.storage.exists(r.key))) throw e;
      this.log.warn("recording upload was completed already (by a replica that stopped before recording it)", { session: r.sessionId });
    }
  }

  /** Keeps the bad part aside, finishes the object with the parts before it, marks it corrupt. */
  async #corrupt(r: RecordingRecord, reason: string, bytes?: Uint8Array, n?: number): Promise<void> {
    this.log.error("session recording part is corrupt", { session: r.sessionId, server_id: r.serverId, reason });
    if (bytes && n !== undefined) {
      await this.storage.put(corruptKey(r.sessionId, n), bytes).catch((e) => {
        this.count("corrupt_part_not_kept");
        this.log.error("could not keep the corrupt part aside", { session: r.sessionId, part: n, key: corruptKey(r.sessionId, n), error: e as Error });
      });
    }
    r.state = "corrupt";
    r.reason = reason;
    await this.audit({ uid: onceUid("recording.corrupt", r.sessionId), event: "recording.corrupt", code: "T2005W", sid: r.sessionId, server_id: r.serverId, user: r.user, login: r.login, reason });
    await this.#finish(r, true, reason);
  }

  async #flushStaged(r: RecordingRecord): Promise<void> {
    if (r.staged.length === 0) return;
    const chunks: Uint8Array[] = [];
    for (const s of r.staged) {
      const b = await this.storage.get(s.key);
      if (!b) throw new Error(`staged part ${s.part} of ${r.sessionId} is missing from storage`);
      chunks.push(b);
    }
    await this.#storagePart(r, Buffer.concat(chunks));
    const staged = r.staged;
    r.staged = [];
    await this.#save(r);
    for (const s of staged) {
      await this.storage.delete(s.key).catch((e) => {
        this.count("staging_object_leaked");
        this.log.warn("staged recording object left in storage", { session: r.sessionId, key: s.key, error: e as Error });
      });
    }
  }

  async #storagePart(r: RecordingRecord, data: Uint8Array): Promise<void> {
    if (!r.uploadId) {
      r.uploadId = await this.storage.createUpload(r.key);
      await this.#save(r);
    }
    const n = r.storageParts.length + 1;
    const etag = await this.storage.uploadPart(r.key, r.uploadId, n, data);
    r.storageParts.push({ n, etag, size: data.length });
  }

  /**
   * Writes the record back only if nobody wrote it since it was read: a replica that was
   * slow (a part it took timed out at the agent, which sent it on to another) must not
   * step the upload back to where it was when it read it.
   */
  async #save(r: RecordingRecord): Promise<void> {
    const read = r.version ?? 0;
    r.version = read + 1;
    if (await this.store.putRecording(r, read)) return;
    this.count("record_changed_meanwhile");
    this.log.warn("recording record changed by another replica meanwhile; this write is dropped", { session: r.sessionId });
    throw new IngestError(409, "another auth replica changed this recording meanwhile; send the part again");
  }

  async #own(serverId: string, sid: string): Promise<RecordingRecord> {
    const r = await this.store.getRecording(sid);
    if (!r) throw new IngestError(404, "no such recording upload; open it first");
    if (r.serverId !== serverId) throw new IngestError(403, "this session's recording belongs to another node");
    return r;
  }

  #serial<T>(sid: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#chains.get(sid) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(fn);
    this.#chains.set(sid, next);
    void next.finally(() => this.#chains.get(sid) === next && this.#chains.delete(sid)).catch(() => {});
    return next;
  }
}

/** The uid of an event a recording has once (a UUID from its type and session): written again by another replica, it is stored once. */
function onceUid(event: string, sid: string): string {
  const h = createHash("sha256").update(`${event}/${sid}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
