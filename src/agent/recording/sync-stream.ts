// node-sync mode: a session's parts go from memory straight to the auth service, one
// at a time and in order. Parts not yet acknowledged stay in memory and are sent again
// after a failure or reconnect. If the oldest one is not durable within sync_timeout
// the session is closed: it is never left running unrecorded.
import { formatDuration, type Duration } from "../../core/duration.ts";
import { ApiError } from "../../platform/api-client.ts";
import type { Logger } from "../../platform/logger.ts";
import type { RecordingClient, RecordingMetaBody } from "./recording-client.ts";

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2_000;
const MAX_QUEUED_BYTES = 256 * 1024 * 1024;
/** After the session was closed, how long the rest may still be delivered. */
const GIVE_UP_MS = 10 * 60_000;

interface Pending { n: number; bytes: Uint8Array; at: number; final: boolean }

export class SyncStream {
  #queue: Pending[] = [];
  #queued = 0;
  #opened = false;
  #sending = false;
  #failedAt?: number;
  #lastError = "";
  #watchdog: Timer;
  #finished = false;
  #completeParts?: number;

  constructor(readonly sid: string, private readonly meta: RecordingMetaBody, private readonly client: RecordingClient,
    private readonly timeout: Duration, private readonly onFail: (message: string) => void, private readonly log: Logger,
    /** Told the bytes waiting for the auth service whenever they change, so the session can be slowed to its pace. */
    private readonly onQueued: (bytes: number) => void = () => {}) {
    this.#watchdog = setInterval(() => this.#check(), Math.min(250, timeout / 4));
  }

  get unacknowledged(): number {
    return this.#queue.length;
  }

  get finished(): boolean {
    return this.#finished;
  }

  push(n: number, bytes: Uint8Array, final: boolean): void {
    this.#queue.push({ n, bytes, at: performance.now(), final });
    this.#queued += bytes.length;
    this.onQueued(this.#queued);
    if (this.#queued > MAX_QUEUED_BYTES) this.#fail(`more than ${MAX_QUEUED_BYTES >> 20} MiB of recording are waiting for the auth service`);
    void this.#pump();
  }

  #check(): void {
    const head = this.#queue[0];
    if (this.#failedAt === undefined && head && performance.now() - head.at > this.timeout) {
      this.#fail(`not durable within recording.sync_timeout (${formatDuration(this.timeout)})${this.#lastError ? ": " + this.#lastError : ""}`);
    }
    if (this.#failedAt !== undefined && performance.now() - this.#failedAt > GIVE_UP_MS) {
      this.log.error("giving up on a session recording", { session: this.sid, unacknowledged: this.#queue.length, error: this.#lastError });
      this.#stop();
    }
  }

  #fail(why: string): void {
    if (this.#failedAt !== undefined) return;
    this.#failedAt = performance.now();
    this.log.error("session recording is not durable; closing the session", { session: this.sid, reason: why });
    this.onFail(`hostward: closing this session: its recording is ${why}`);
  }

  async #pump(): Promise<void> {
    if (this.#sending) return;
    this.#sending = true;
    let delay = RETRY_MIN_MS;
    while ((this.#queue.length > 0 || this.#completeParts !== undefined) && !this.#finished) {
      try {
        await this.#sendHead();
        delay = RETRY_MIN_MS;
      } catch (e) {
        this.#lastError = (e as Error).message;
        if (e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 409 && e.status !== 429) {
          this.#fail(`refused by the auth service: ${this.#lastError}`);
          this.#stop();
          break;
        }
        this.log.debug("recording part not delivered yet", { session: this.sid, error: this.#lastError });
        await Bun.sleep(delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
    this.#sending = false;
  }

  async #sendHead(): Promise<void> {
    if (!this.#opened) {
      await this.client.open(this.sid, this.meta);
      this.#opened = true;
    }
    const head = this.#queue[0];
    if (head) {
      let next: number;
      try {
        // A replica that stopped answering (frozen, its machine gone) is given a third
        // of sync_timeout, so the part still reaches another in time.
        next = (await this.client.putPart(this.sid, head.n, head.bytes, Math.max(1_000, this.timeout / 3))).next;
      } catch (e) {
        // The auth service holds more or less than we think (a retry whose answer was
        // lost, or a restart): continue from the part it expects.
        if (!(e instanceof ApiError && e.status === 409)) throw e;
        next = (await this.client.open(this.sid, this.meta)).next;
        if (next <= head.n) throw e;
      }
      const final = this.#queue.find((p) => p.final && p.n < next);
      this.#drop(next);
      if (final) this.#completeParts = final.n;
    }
    if (this.#completeParts !== undefined && this.#queue.length === 0) {
      await this.client.complete(this.sid, { parts: this.#completeParts, interrupted: this.#failedAt !== undefined });
      this.#stop();
    }
  }

  #drop(next: number): void {
    while (this.#queue[0] && this.#queue[0].n < next) this.#queued -= this.#queue.shift()!.bytes.length;
    this.onQueued(this.#queued);
  }

  #stop(): void {
    this.#finished = true;
    clearInterval(this.#watchdog);
  }
}
