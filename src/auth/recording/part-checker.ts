// Runs recording part checks on a worker thread (part-check-worker.ts) and hands the
// answers back as promises. Started with the first part; a worker that dies fails the
// checks it held (the agent retries them) and the next check starts a new one.
import type { PartCheck } from "../../recording/format/part-codec.ts";

export interface CheckRequest { id: number; buf: ArrayBuffer }
/** The worker hands the part's memory back with its answer (transferred, not copied). */
export type CheckReply = { id: number; buf: ArrayBuffer } & ({ check: PartCheck; error?: undefined } | { error: string; check?: undefined });

/** Checks a part; `bytes` is the same part given back (a checker may have borrowed its memory meanwhile). */
export type PartCheckFn = (bytes: Uint8Array) => Promise<{ check: PartCheck; bytes: Uint8Array }>;

export class PartChecker {
  #worker?: Worker;
  #next = 1;
  readonly #pending = new Map<number, { resolve: (r: { check: PartCheck; bytes: Uint8Array }) => void; reject: (e: Error) => void }>();
  #closed = false;

  /** Checks a part on the worker. The bytes are copied: the caller keeps and stores its own. */
  async check(bytes: Uint8Array): Promise<PartCheck> {
    return (await this.lend(Uint8Array.from(bytes))).check;
  }

  /**
   * Checks a part on the worker without copying it when `bytes` spans its whole buffer:
   * that memory moves to the worker (the caller's view is emptied) and comes back as
   * the answer's `bytes`. A recording part is up to 32 MiB, and every one is checked.
   */
  lend(bytes: Uint8Array): Promise<{ check: PartCheck; bytes: Uint8Array }> {
    if (this.#closed) return Promise.reject(new Error("the part checker is closed"));
    const id = this.#next++;
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
    const buf = whole ? (bytes.buffer as ArrayBuffer) : Uint8Array.from(bytes).buffer;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ensure().postMessage({ id, buf } satisfies CheckRequest, [buf]);
      this.#worker!.ref();
    });
  }

  close(): void {
    this.#closed = true;
    this.#fail(new Error("the part checker is closed"));
    this.#worker?.terminate();
    this.#worker = undefined;
  }

  #ensure(): Worker {
    if (this.#worker) return this.#worker;
    const w = new Worker(workerUrl());
    w.onmessage = (ev: MessageEvent<CheckReply>) => {
      const p = this.#pending.get(ev.data.id);
      if (!p) return;
      this.#pending.delete(ev.data.id);
      if (this.#pending.size === 0) w.unref();
      if (ev.data.error !== undefined) p.reject(new Error(`part check failed: ${ev.data.error}`));
      else p.resolve({ check: ev.data.check, bytes: new Uint8Array(ev.data.buf) });
    };
    w.onerror = (ev) => {
      ev.preventDefault?.();
      if (this.#worker === w) this.#worker = undefined;
      w.terminate();
      this.#fail(new Error(`the part-check worker failed: ${ev.message || "unknown error"}`));
    };
    w.unref();
    return (this.#worker = w);
  }

  #fail(e: Error): void {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of all) p.reject(e);
  }
}

/** In a `bun build --compile` binary, modules sit under /$bunfs/root/ by their path below src/. */
function workerUrl(): string {
  return import.meta.url.includes("/$bunfs/") ? "./auth/recording/part-check-worker.ts" : new URL("./part-check-worker.ts", import.meta.url).href;
}
