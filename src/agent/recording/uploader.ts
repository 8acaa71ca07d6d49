// node mode: sends spooled sessions to the auth service part by part. Its state is the
// spool itself (a part file is removed only once the auth service has it), so it
// survives restarts and resumes where it stopped. Each session retries on its own
// backoff; one the auth service finds corrupt is moved aside and never blocks the others.
import { existsSync, readdirSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { ApiError } from "../../platform/api-client.ts";
import { isDiskFull } from "../../platform/disk-full.ts";
import type { Logger } from "../../platform/logger.ts";
import type { RecordingClient, UploadState } from "./recording-client.ts";
import { listSpooled, moveAside, partName, readMeta, recover, removeSession, sealedParts, sessionDir, spoolRoot, type SpoolMeta } from "./spool.ts";

const IDLE_MS = 5_000;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 60_000;

export class Uploader {
  readonly #root: string;
  readonly #backoff = new Map<string, { until: number; ms: number }>();
  #timer?: Timer;
  #running = false;
  #again = false;
  #stopped = false;

  constructor(private readonly dataDir: string, private readonly client: RecordingClient,
    private readonly isLive: (sid: string) => boolean, private readonly log: Logger) {
    this.#root = spoolRoot(dataDir);
  }

  /**
   * Starts uploading. Sessions a previous run left open (or that a full disk cut) are
   * recovered in the rounds, so one that waits for disk space waits there, not here.
   */
  start(): void {
    this.poke();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** The auth service is back: every session tries now instead of at the end of its backoff. */
  retryNow(): void {
    this.#backoff.clear();
    this.poke();
  }

  poke(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#round(), 0);
  }

  async #round(): Promise<void> {
    this.#running = true;
    do {
      this.#again = false;
      for (const sid of listSpooled(this.#root)) {
        if (this.#stopped) break;
        const b = this.#backoff.get(sid);
        if (b && b.until > Date.now()) continue;
        try {
          await this.#upload(sid);
          this.#backoff.delete(sid);
        } catch (e) {
          const ms = Math.min((b?.ms ?? RETRY_MIN_MS / 2) * 2, RETRY_MAX_MS);
          this.#backoff.set(sid, { until: Date.now() + ms, ms });
          this.log.warn("recording upload failed; will retry", { session: sid, retry_in_ms: ms, error: e as Error });
        }
      }
    } while (this.#again && !this.#stopped);
    this.#running = false;
    if (!this.#stopped) {
      const nextBackoff = Math.min(IDLE_MS, ...[...this.#backoff.values()].map((b) => Math.max(0, b.until - Date.now())));
      this.#timer = setTimeout(() => void this.#round(), nextBackoff);
    }
  }

  async #upload(sid: string): Promise<void> {
    const dir = sessionDir(this.#root, sid);
    const live = this.isLive(sid);
    if (!live && !existsSync(join(dir, "meta.json")) && readdirSync(dir).every((f) => !f.startsWith("part-"))) {
      // Its recording could not even start (no room for meta.json): nothing was kept.
      return removeSession(this.#root, sid);
    }
    let meta = readMeta(dir);
    if (!live && meta.state === "recording") {
      // Cut by an agent stop or a failed spool write: sealed parts go first (they free
      // room), then the open part is salvaged, which needs room of its own.
      await this.#uploadParts(sid, dir, meta);
      const recovered = this.#recover(sid, dir);
      if (!recovered) return;
      meta = recovered;
    }
    const parts = sealedParts(dir);
    const done = !live && meta.state !== "recording";
    if (parts.length === 0 && !done) return;
    let state;
    try {
      state = await this.client.open(sid, { user: meta.user, login: meta.login, kind: meta.kind, command: meta.command, mode: meta.mode, started: meta.started });
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) return this.#forget(sid, dir, `the auth service already has this recording: ${e.message}`);
      throw e;
    }
    if (state.state === "corrupt") return this.#corrupt(sid, "the auth service marked this recording corrupt", false);
    state = await this.#putParts(sid, dir, parts, state);
    if (state === undefined) return;
    if (!done) return;
    const last = Math.max(parts.at(-1) ?? 0, state.next - 1);
    await this.client.complete(sid, { parts: last, interrupted: meta.state === "interrupted" });
    removeSession(this.#root, sid);
    this.log.info("session recording uploaded", { session: sid, parts: last, interrupted: meta.state === "interrupted" });
  }

  /** Salvages a session left "recording"; a full disk is waited out, anything else is corruption. */
  #recover(sid: string, dir: string): SpoolMeta | undefined {
    try {
      const salvaged = recover(dir, new Date());
      this.log.warn("recovered a session cut by an agent stop or a failed spool write; it will be uploaded as interrupted", { session: sid, salvaged_events: salvaged });
    } catch (e) {
      if (isDiskFull(e)) throw new Error(`waiting for disk space to salvage the session's open part: ${(e as Error).message}`);
      this.#corrupt(sid, `cannot recover the spool: ${(e as Error).message}`);
      return undefined;
    }
    return readMeta(dir);
  }

  /** Sends the sealed parts of a session still marked recording (without completing it). */
  async #uploadParts(sid: string, dir: string, meta: SpoolMeta): Promise<void> {
    const parts = sealedParts(dir);
    if (parts.length === 0) return;
    const state = await this.client.open(sid, { user: meta.user, login: meta.login, kind: meta.kind, command: meta.command, mode: meta.mode, started: meta.started });
    if (state.state !== "open") return;
    await this.#putParts(sid, dir, parts, state);
  }

  /** Sends the parts the auth service lacks and deletes each it has; undefined when the session was moved aside. */
  async #putParts(sid: string, dir: string, parts: number[], state: UploadState): Promise<UploadState | undefined> {
    if (state.state === "complete" && (parts.at(-1) ?? 0) >= state.next) {
      return void this.#forget(sid, "", "the auth service already finished this recording as abandoned; the parts it lacks are kept aside");
    }
    for (const n of parts) {
      const path = join(dir, partName(n, true));
      if (n >= state.next) {
        // The auth service checks every part (gzip CRC, event lines) and answers 422.
        const bytes = readFileSync(path);
        try {
          state = await this.client.putPart(sid, n, bytes);
        } catch (e) {
          if (e instanceof ApiError && e.status === 422) return void this.#corrupt(sid, `part ${n}: ${e.message}`, false);
          throw e;
        }
      }
      unlinkSync(path);
    }
    return state;
  }

  #forget(sid: string, _dir: string, why: string): void {
    this.log.warn("dropping a spooled recording", { session: sid, reason: why });
    this.#corrupt(sid, why, false);
  }

  #corrupt(sid: string, reason: string, report = true): void {
    let where = "";
    try {
      where = moveAside(this.dataDir, sid);
    } catch (e) {
      this.log.error("cannot move a corrupt spool aside", { session: sid, error: e as Error });
    }
    this.log.error("session recording is corrupt; moved aside", { session: sid, reason, moved_to: where });
    if (report) this.client.reportCorrupt(sid, reason).catch((e) => this.log.warn("could not report a corrupt recording", { session: sid, error: e as Error }));
  }
}
