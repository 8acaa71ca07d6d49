// The change feed's history identity: each change carries a hash chained over every
// change before it, so two stores that diverged (a restored backup, a lagging replica)
// disagree at the same revision and an agent resuming from the other history is caught.
import { createHash } from "node:crypto";

/** The chain's value before the first change. */
export const HISTORY_GENESIS = "";

/** The fields of a change that the chain covers; `data` is the stored text of the resource. */
export interface ChainedChange {
  rev: number;
  op: string;
  kind: string;
  name: string;
  data: string | null;
}

/** The history hash after `c`, given the one before it. */
export function chainHash(prev: string, c: ChainedChange): string {
  return createHash("sha256").update(JSON.stringify([prev, c.rev, c.op, c.kind, c.name, c.data])).digest("hex").slice(0, 32);
}

/** A hash as an agent sends it: 32 lowercase hex digits. */
export function isHistoryHash(s: string): boolean {
  return /^[0-9a-f]{32}$/.test(s);
}
