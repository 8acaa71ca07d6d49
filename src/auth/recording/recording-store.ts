// Storage contract for session recordings' bookkeeping: what each upload holds, part by
// part, so uploads resume after any restart without asking the object store (s3rver
// and some S3-compatible servers lack ListParts). The bytes live in RecordingStorage.

export type RecordingState = "open" | "complete" | "corrupt";

export interface StoragePart {
  n: number;
  etag: string;
  size: number;
}

export interface StagedPart {
  /** The agent's part number. */
  part: number;
  key: string;
  size: number;
}

export interface RecordingRecord {
  sessionId: string;
  serverId: string;
  user: string;
  login: string;
  kind: string;
  command?: string;
  /** Fields cut to their maximum length when the upload was opened (e.g. ["command"]). */
  truncated?: string[];
  /** Cluster recording mode when the session started: node or node-sync. */
  mode: string;
  startedAt: Date;
  state: RecordingState;
  /** The session was cut (agent crash, lost node-sync stream) before it ended. */
  interrupted: boolean;
  /** Why it is corrupt or interrupted. */
  reason?: string;
  /** Storage key of the finished object. */
  key: string;
  uploadId?: string;
  /** The next agent part expected. */
  nextPart: number;
  storageParts: StoragePart[];
  /** Agent parts kept as small objects until they add up to a storage part. */
  staged: StagedPart[];
  /** Compressed bytes received. */
  bytes: number;
  events: number;
  /** ms of the last event: the recording's length. */
  durationMs: number;
  updatedAt: Date;
  completedAt?: Date;
  /** How many times the record was written (absent on records written before versions: 0). */
  version?: number;
}

export interface RecordingQuery {
  user?: string;
  serverId?: string;
  state?: RecordingState;
  limit: number;
}

export interface RecordingUsage {
  total: { bytes: number; recordings: number };
  /** YYYY-MM-DD (UTC), oldest first; days without recordings are absent. */
  days: { day: string; bytes: number; recordings: number }[];
  nodes: { serverId: string; bytes: number; recordings: number }[];
}

export interface RecordingStore {
  getRecording(sessionId: string): Promise<RecordingRecord | undefined>;
  /**
   * Writes the record. With `expectVersion`, only if the stored one is at that version (a
   * missing record counts as version 0): replicas that each read an upload and write it
   * back never step it backwards — the later writer is told (false) and writes nothing.
   */
  putRecording(r: RecordingRecord, expectVersion?: number): Promise<boolean>;
  /** Newest first. */
  listRecordings(q: RecordingQuery): Promise<RecordingRecord[]>;
  deleteRecording(sessionId: string): Promise<boolean>;
  /** Compressed bytes and counts of recordings started since `since`, by UTC day and by node, and in all. */
  usage(since: Date): Promise<RecordingUsage>;
  /** Uploads still open, for one node or all. */
  openRecordings(serverId?: string): Promise<RecordingRecord[]>;
}
