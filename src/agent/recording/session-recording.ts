// One session's recording on the agent's main thread: output, input and resizes are
// written once, as format-version-2 events (a frame head, the bytes, a newline), into
// a batch buffer that is handed to the encoder worker every half second (or when it is
// full) and comes back to be reused. Nothing else happens on the SSH data path: no
// encoding, no allocation per chunk.
import { eventLine, frameHead, type SessionEndEvent } from "../../recording/format/recording-event.ts";

const FLUSH_MS = 500;
/** Backlog (posted to the worker, not yet encoded) above which pipe output waits. */
const HIGH_WATER = 32 * 1024 * 1024;
const LOW_WATER = 8 * 1024 * 1024;
/**
 * node-sync: bytes waiting for the auth service above which pipe output waits too.
 * Output that does not compress reaches the auth service as fast as the encoder stores
 * it; without this the queue would pass its 256 MiB limit and the session be closed.
 */
const UPSTREAM_HIGH = 64 * 1024 * 1024;
const UPSTREAM_LOW = 16 * 1024 * 1024;
/** Room for a frame head: {"event":"stdin","ms":<15 digits>,"n":<15 digits>}\n */
const HEAD_MAX = 64;

export interface RecordingPort {
  post(msg: { op: "batch"; sid: string; buf: ArrayBuffer; len: number; lastMs: number }, transfer: Bun.Transferable[]): void;
  end(sid: string, endLine: string): void;
}

export class SessionRecording {
  readonly #t0 = performance.now();
  #buf?: Buffer;
  /** A batch buffer the worker gave back, used for the next batch (no fresh pages to fault in). */
  #spare?: ArrayBuffer;
  #used = 0;
  #lastMs = 0;
  #timer?: Timer;
  #backlog = 0;
  #upstream = 0;
  #waiters: (() => void)[] = [];
  #ended = false;

  constructor(readonly sid: string, readonly mode: "node" | "sync", private readonly port: RecordingPort,
    private readonly batchBytes: number, readonly recordStdin: boolean) {}

  ms(): number {
    return Math.round(performance.now() - this.#t0);
  }

  /** Records output; returns a promise when the encoder is far behind (pipes wait on it). */
  output(bytes: Uint8Array): Promise<void> | undefined {
    this.#bytes("print", bytes);
    return this.#backlog > HIGH_WATER || this.#upstream > UPSTREAM_HIGH ? new Promise((r) => this.#waiters.push(r)) : undefined;
  }

  input(bytes: Uint8Array): void {
    if (this.recordStdin) this.#bytes("stdin", bytes);
  }

  resize(cols: number, rows: number): void {
    const ms = (this.#lastMs = this.ms());
    this.line(`{"event":"resize","ms":${ms},"cols":${cols},"rows":${rows}}\n`);
  }

  /** A whole JSON event line (with its newline). */
  line(text: string): void {
    if (this.#ended) return;
    const n = Buffer.byteLength(text);
    const buf = this.#room(n);
    this.#used += buf.write(text, this.#used, "utf8");
    this.#scheduled();
  }

  end(exit: { code?: number; signal?: string }, extra: Partial<SessionEndEvent> = {}): void {
    if (this.#ended) return;
    this.flush();
    this.#ended = true;
    const e: SessionEndEvent = { event: "session.end", ms: this.ms(), time: new Date().toISOString(), ...definedOnly({ exit_code: exit.code, exit_signal: exit.signal }), ...extra };
    this.port.end(this.sid, eventLine(e));
  }

  /** The worker finished encoding `bytes` of this session's batches; `buf` is the batch buffer, back for reuse. */
  encoded(bytes: number, buf?: ArrayBuffer): void {
    this.#backlog -= bytes;
    if (buf && buf.byteLength === this.batchBytes && !this.#ended) this.#spare = buf;
    this.#wake();
  }

  /** node-sync: the bytes of this session's parts not yet acknowledged by the auth service. */
  upstream(bytes: number): void {
    this.#upstream = bytes;
    this.#wake();
  }

  #wake(): void {
    if (this.#backlog < LOW_WATER && this.#upstream < UPSTREAM_LOW) for (const w of this.#waiters.splice(0)) w();
  }

  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#buf || this.#used === 0) return;
    const buf = this.#buf.buffer as ArrayBuffer;
    const len = this.#used;
    this.port.post({ op: "batch", sid: this.sid, buf, len, lastMs: this.#lastMs }, [buf]);
    this.#backlog += len;
    this.#buf = undefined;
    this.#used = 0;
  }

  #bytes(event: "print" | "stdin", bytes: Uint8Array): void {
    if (this.#ended || bytes.length === 0) return;
    const ms = this.ms();
    this.#lastMs = ms;
    const head = frameHead(event, ms, bytes.length);
    const buf = this.#room(head.length + bytes.length + 1);
    this.#used += buf.write(head, this.#used, "latin1");
    buf.set(bytes, this.#used);
    this.#used += bytes.length;
    buf[this.#used++] = 0x0a;
    if (this.#used >= this.batchBytes) this.flush();
    else this.#scheduled();
  }

  /** The batch buffer, with room for n more bytes (the current batch is sent first if it has not). */
  #room(n: number): Buffer {
    if (this.#buf && this.#used + n > this.#buf.length) this.flush();
    if (!this.#buf) {
      const size = Math.max(this.batchBytes, n + HEAD_MAX);
      const spare = size === this.batchBytes ? this.#spare : undefined;
      this.#spare = undefined;
      this.#buf = spare ? Buffer.from(spare) : Buffer.allocUnsafeSlow(size);
    }
    return this.#buf;
  }

  #scheduled(): void {
    this.#timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
