// One session's recording on the agent's main thread: output, input and resizes are
// copied once into a batch buffer and handed to the encoder worker every half second
// (or when the batch is full). Nothing else happens on the SSH data path.
import { LINE, PRINT, RESIZE, STDIN, type BatchEvent } from "./encoder-protocol.ts";
import { eventLine, type SessionEndEvent } from "../../recording/format/recording-event.ts";

const FLUSH_MS = 500;
/** Backlog (posted to the worker, not yet encoded) above which pipe output waits. */
const HIGH_WATER = 32 * 1024 * 1024;
const LOW_WATER = 8 * 1024 * 1024;

export interface RecordingPort {
  post(msg: { op: "batch"; sid: string; buf: ArrayBuffer; events: BatchEvent[]; bytes: number }, transfer: Bun.Transferable[]): void;
  end(sid: string, endLine: string): void;
}

export class SessionRecording {
  readonly #t0 = performance.now();
  #buf?: Uint8Array;
  #used = 0;
  #events: BatchEvent[] = [];
  #timer?: Timer;
  #backlog = 0;
  #waiters: (() => void)[] = [];
  #ended = false;

  constructor(readonly sid: string, readonly mode: "node" | "sync", private readonly port: RecordingPort,
    private readonly batchBytes: number, readonly recordStdin: boolean) {}

  ms(): number {
    return Math.round(performance.now() - this.#t0);
  }

  /** Records output; returns a promise when the encoder is far behind (pipes wait on it). */
  output(bytes: Uint8Array): Promise<void> | undefined {
    this.#bytes(PRINT, bytes);
    return this.#backlog > HIGH_WATER ? new Promise((r) => this.#waiters.push(r)) : undefined;
  }

  input(bytes: Uint8Array): void {
    if (this.recordStdin) this.#bytes(STDIN, bytes);
  }

  resize(cols: number, rows: number): void {
    this.#push([RESIZE, this.ms(), cols, rows]);
  }

  line(text: string): void {
    this.#push([LINE, text]);
  }

  end(exit: { code?: number; signal?: string }, extra: Partial<SessionEndEvent> = {}): void {
    if (this.#ended) return;
    this.flush();
    this.#ended = true;
    const e: SessionEndEvent = { event: "session.end", ms: this.ms(), time: new Date().toISOString(), ...definedOnly({ exit_code: exit.code, exit_signal: exit.signal }), ...extra };
    this.port.end(this.sid, eventLine(e));
  }

  /** The worker finished encoding `bytes` of this session's batches. */
  encoded(bytes: number): void {
    this.#backlog -= bytes;
    if (this.#backlog < LOW_WATER) for (const w of this.#waiters.splice(0)) w();
  }

  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#events.length === 0) return;
    const buf = this.#buf ?? new Uint8Array(0);
    const bytes = this.#used;
    this.port.post({ op: "batch", sid: this.sid, buf: buf.buffer as ArrayBuffer, events: this.#events, bytes }, [buf.buffer as ArrayBuffer]);
    this.#backlog += bytes;
    this.#buf = undefined;
    this.#used = 0;
    this.#events = [];
  }

  #bytes(kind: typeof PRINT | typeof STDIN, bytes: Uint8Array): void {
    if (this.#ended || bytes.length === 0) return;
    if (this.#buf && this.#used + bytes.length > this.#buf.length) this.flush();
    this.#buf ??= Buffer.allocUnsafeSlow(Math.max(this.batchBytes, bytes.length));
    this.#buf.set(bytes, this.#used);
    this.#push([kind, this.ms(), this.#used, bytes.length]);
    this.#used += bytes.length;
    if (this.#used >= this.batchBytes) this.flush();
  }

  #push(e: BatchEvent): void {
    if (this.#ended) return;
    this.#events.push(e);
    this.#timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
