// Messages between the agent's main thread and the recording encoder worker. The main
// thread only batches output bytes (one copy); encoding, compression and spool writes
// happen in the worker so they do not slow the SSH data path.

/** [kind, ms, a, b]: print/stdin → a = offset, b = length in the batch buffer; resize → cols, rows. */
export type BatchEvent = [kind: 0 | 1 | 2, ms: number, a: number, b: number] | [kind: 3, line: string];
export const PRINT = 0;
export const STDIN = 1;
export const RESIZE = 2;
export const LINE = 3;

export type ToWorker =
  | { op: "open"; sid: string; mode: "node" | "sync"; dir?: string; meta?: unknown; partLimit: number; startLine: string }
  | { op: "batch"; sid: string; buf: ArrayBuffer; events: BatchEvent[]; bytes: number }
  | { op: "end"; sid: string; endLine: string };

export type FromWorker =
  | { op: "done"; sid: string; bytes: number }
  | { op: "part"; sid: string; n: number; bytes: ArrayBuffer; lastMs: number; final: boolean }
  | { op: "sealed"; sid: string; n: number }
  | { op: "closed"; sid: string; parts: number }
  | { op: "error"; sid: string; message: string };
