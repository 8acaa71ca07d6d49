// Messages between the agent's main thread and the recording encoder worker. The main
// thread writes events into a batch buffer (one copy of the bytes); compression and
// spool writes happen in the worker so they do not slow the SSH data path, and the
// worker hands each batch buffer back to be reused.

export type ToWorker =
  | { op: "open"; sid: string; mode: "node" | "sync"; dir?: string; meta?: unknown; partLimit: number; startLine: string }
  /** `len` bytes of whole events at the start of `buf`; `lastMs` is the last event's time. */
  | { op: "batch"; sid: string; buf: ArrayBuffer; len: number; lastMs: number }
  | { op: "end"; sid: string; endLine: string };

export type FromWorker =
  | { op: "done"; sid: string; bytes: number; buf?: ArrayBuffer }
  | { op: "part"; sid: string; n: number; bytes: ArrayBuffer; lastMs: number; final: boolean }
  | { op: "sealed"; sid: string; n: number }
  | { op: "closed"; sid: string; parts: number }
  | { op: "error"; sid: string; message: string };
