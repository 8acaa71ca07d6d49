// How both store backends turn stored JSON back into domain values: resources (kept in
// their external form, re-validated on the way out), node and recording records (dates revived).
import { parseResource } from "../core/resources.ts";
import type { Resource } from "../core/resource-types.ts";
import type { NodeRecord } from "./store.ts";
import type { RecordingRecord } from "./recording/recording-store.ts";

// Stored resources were validated when written; decoding them with the epoch as
// "now" keeps a lock whose expiry has since passed readable (it simply stops matching).
const EPOCH = new Date(0);

export function decodeResource(data: string): Resource {
  return parseResource(JSON.parse(data), "store", { now: EPOCH });
}

export function decodeNode(data: string): NodeRecord {
  const n = JSON.parse(data);
  return { ...n, joinedAt: new Date(n.joinedAt), lastSeen: new Date(n.lastSeen) };
}

/** The object without its undefined fields (JSON and the stores treat absent as unset). */
export function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A recording's bookkeeping as stored (JSON, dates as ISO strings) — the same on both backends. */
export function decodeRecording(data: string): RecordingRecord {
  const r = JSON.parse(data);
  return { ...r, startedAt: new Date(r.startedAt), updatedAt: new Date(r.updatedAt), ...(r.completedAt ? { completedAt: new Date(r.completedAt) } : {}) };
}
