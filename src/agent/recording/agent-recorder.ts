// The agent's recorder: decides whether a session is recorded, refuses
// recorded sessions when the spool disk is low, and wires each recording to the
// encoder worker and then to the spool + uploader (node) or the auth service (node-sync).
import { mkdirSync, statfsSync } from "node:fs";
import { shouldRecord } from "../../core/access-policy.ts";
import type { AgentConfig } from "../../core/config.ts";
import type { ClusterConfig, Role } from "../../core/resource-types.ts";
import type { ApiClient } from "../../platform/api-client.ts";
import type { Logger } from "../../platform/logger.ts";
import type { FromWorker, ToWorker } from "./encoder-protocol.ts";
import { RecordingClient, type RecordingMetaBody } from "./recording-client.ts";
import { eventLine, FORMAT_VERSION, type SessionStartEvent } from "../../recording/format/recording-event.ts";
import { SessionRecording } from "./session-recording.ts";
import { sessionDir, spoolRoot, type SpoolMeta } from "./spool.ts";
import { SyncStream } from "./sync-stream.ts";
import { Uploader } from "./uploader.ts";

export const RECORDING_NOTICE = "hostward: this session is being recorded";
const NODE_PART_BYTES = 8 * 1024 * 1024;
const NODE_BATCH_BYTES = 1024 * 1024;
const SYNC_BATCH_BYTES = 4 * 1024 * 1024;

export interface SessionInfo {
  sid: string;
  user: string;
  login: string;
  kind: string;
  command?: string;
  term?: string;
  cols?: number;
  rows?: number;
}

export interface RecorderDeps {
  dataDir: string;
  serverId: string;
  settings: AgentConfig["recording"];
  api: ApiClient;
  log: Logger;
  /** The auth service's time, for the recording's start time. */
  now?: () => Date;
  /** Free bytes on the spool's filesystem (replaceable in tests). */
  freeBytes?: (dir: string) => number;
}

export type RecordingDecision = { recording?: SessionRecording; refusal?: string };

export class AgentRecorder {
  #worker?: Worker;
  readonly #live = new Map<string, { rec: SessionRecording; onFail: (m: string) => void; sync?: SyncStream }>();
  readonly #client: RecordingClient;
  readonly uploader: Uploader;
  readonly #root: string;
  #broken?: string;

  constructor(private readonly deps: RecorderDeps) {
    this.#root = spoolRoot(deps.dataDir);
    mkdirSync(this.#root, { recursive: true, mode: 0o700 });
    this.#client = new RecordingClient(deps.api);
    this.uploader = new Uploader(deps.dataDir, this.#client, (sid) => this.#live.has(sid), deps.log.child({ component: "uploader" }));
  }

  /** The encoder worker, started with the first recorded session: an agent that records nothing never pays for a second JavaScript heap. */
  #encoder(): Worker {
    if (this.#worker) return this.#worker;
    const w = new Worker(workerUrl());
    w.onmessage = (ev: MessageEvent<FromWorker>) => this.#fromWorker(ev.data);
    w.onerror = (ev) => this.#workerFailed(ev.message);
    w.unref();
    return (this.#worker = w);
  }

  /** node-sync parts the auth service has not acknowledged yet, over every live session. */
  syncPartsWaiting(): number {
    let n = 0;
    for (const { sync } of this.#live.values()) n += sync && !sync.finished ? sync.unacknowledged : 0;
    return n;
  }

  start(): void {
    this.uploader.start();
    // node-sync recordings held in memory by a previous run are gone: let the auth
    // service finish what it has as interrupted.
    this.#client.orphans().catch((e) => this.deps.log.warn("could not finish node-sync recordings of a previous run", { error: e as Error }));
  }

  stop(): void {
    this.uploader.stop();
    for (const { rec } of this.#live.values()) rec.flush();
  }

  /** Whether and how to record a new session; a refusal closes it before it starts. */
  begin(info: SessionInfo, roles: Role[], cluster: ClusterConfig, onFail: (message: string) => void): RecordingDecision {
    if (info.kind === "sftp" || !shouldRecord(roles, cluster)) return {};
    if (this.#broken) return { refusal: `hostward: this session must be recorded but the recorder failed (${this.#broken}); refusing recorded sessions` };
    const mode = cluster.sessionRecording === "node-sync" ? "sync" : "node";
    if (mode === "node") {
      const refusal = this.#diskRefusal();
      if (refusal) return { refusal };
    }
    const start: SessionStartEvent = {
      event: "session.start", ms: 0, version: FORMAT_VERSION, sid: info.sid, time: (this.deps.now?.() ?? new Date()).toISOString(), server_id: this.deps.serverId,
      user: info.user, login: info.login, kind: info.kind, mode: cluster.sessionRecording,
      ...(info.term ? { term: info.term, cols: info.cols, rows: info.rows } : {}),
      ...(info.command !== undefined ? { command: info.command } : {}),
    };
    const meta: RecordingMetaBody = { user: info.user, login: info.login, kind: info.kind, command: info.command, mode: cluster.sessionRecording, started: start.time };
    const rec = new SessionRecording(info.sid, mode, {
      post: (m, transfer) => this.#encoder().postMessage(m satisfies ToWorker, transfer),
      end: (sid, endLine) => this.#encoder().postMessage({ op: "end", sid, endLine } satisfies ToWorker),
    }, mode === "node" ? NODE_BATCH_BYTES : SYNC_BATCH_BYTES, this.deps.settings.recordStdin);
    const entry: { rec: SessionRecording; onFail: (m: string) => void; sync?: SyncStream } = { rec, onFail };
    if (mode === "sync") entry.sync = new SyncStream(info.sid, meta, this.#client, this.deps.settings.syncTimeout, onFail, this.deps.log, (bytes) => rec.upstream(bytes));
    this.#live.set(info.sid, entry);
    const spoolMeta: SpoolMeta = { sid: info.sid, server_id: this.deps.serverId, ...meta, state: "recording" };
    this.#encoder().postMessage({
      op: "open", sid: info.sid, mode, partLimit: NODE_PART_BYTES, startLine: eventLine(start),
      ...(mode === "node" ? { dir: sessionDir(this.#root, info.sid), meta: spoolMeta } : {}),
    } satisfies ToWorker);
    if (info.command !== undefined) rec.line(eventLine({ event: "exec", ms: 0, command: info.command }));
    return { recording: rec };
  }

  /** The encoder died: every recorded session is closed, new ones are refused. */
  #workerFailed(message: string): void {
    this.#broken = message || "encoder worker error";
    this.deps.log.error("the recording encoder failed; recorded sessions are closed and refused", { error: this.#broken });
    for (const { onFail } of this.#live.values()) onFail(`hostward: closing this session: it cannot be recorded (${this.#broken})`);
  }

  #diskRefusal(): string | undefined {
    let free: number;
    try {
      free = (this.deps.freeBytes ?? freeBytes)(this.#root);
    } catch (e) {
      return `hostward: this session must be recorded but the recording spool is not usable (${(e as Error).message})`;
    }
    const min = this.deps.settings.minFree;
    if (free >= min) return undefined;
    this.deps.log.warn("refusing a recorded session: spool disk is low", { free, min_free: min });
    return `hostward: this session must be recorded but the node has only ${humanBytes(free)} free for recordings (recording.min_free is ${humanBytes(min)}); refusing new recorded sessions`;
  }

  #fromWorker(m: FromWorker): void {
    const entry = this.#live.get(m.sid);
    switch (m.op) {
      case "done":
        entry?.rec.encoded(m.bytes, m.buf);
        return;
      case "part":
        entry?.sync?.push(m.n, new Uint8Array(m.bytes), m.final);
        return;
      case "sealed":
        this.uploader.poke();
        return;
      case "closed":
        this.#live.delete(m.sid);
        this.uploader.poke();
        return;
      case "error":
        this.deps.log.error("session recording failed", { session: m.sid, error: m.message });
        entry?.onFail(`hostward: closing this session: it cannot be recorded (${m.message})`);
        return;
    }
  }
}

/** In a `bun build --compile` binary, modules sit under /$bunfs/root/ by their path below src/. */
function workerUrl(): string {
  return import.meta.url.includes("/$bunfs/") ? "./agent/recording/encoder-worker.ts" : new URL("./encoder-worker.ts", import.meta.url).href;
}

function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}

function humanBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${Number.isInteger(n) ? n : n.toFixed(1)}${units[i]}`;
}
