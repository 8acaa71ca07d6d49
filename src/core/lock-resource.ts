// The lock resource: validation of its external form and conversion back to it.
// A lock needs at least one target field and, when it expires, an expiry in the future.

import { readName } from "./resource-name.ts";
import { LOCK_TARGET_FIELDS, type Lock, type LockTarget, type ResourceParseOptions } from "./resource-types.ts";
import { formatRfc3339 } from "./rfc3339.ts";
import { describe, type TableReader } from "./table-reader.ts";

const _TARGET_KEYS = LOCK_TARGET_FIELDS.map(([, external]) => external);
const _MAX_MESSAGE = 1024;

export function parseLock(r: TableReader, opts: ResourceParseOptions): Lock {
  const name = readName(r, "lock", opts.newName ?? (() => crypto.randomUUID()));
  const lock: Lock = { kind: "lock", name, target: _target(r) };
  const message = r.string("message");
  if (message !== undefined && message !== "") lock.message = _checkMessage(r, message);
  const expires = r.date("expires");
  if (expires !== undefined) {
    if (!opts.acceptExpired && expires.getTime() <= opts.now.getTime()) r.fail("expires", "expires is in the past");
    lock.expires = expires;
  }
  const createdBy = r.string("created_by");
  const createdAt = r.date("created_at");
  if (createdBy !== undefined) lock.createdBy = createdBy;
  if (createdAt !== undefined) lock.createdAt = createdAt;
  return lock;
}

export function lockToExternal(lock: Lock): Record<string, unknown> {
  const target: Record<string, string> = {};
  for (const [internal, external] of LOCK_TARGET_FIELDS) {
    const v = lock.target[internal];
    if (v !== undefined) target[external] = v;
  }
  const out: Record<string, unknown> = { kind: "lock", name: lock.name };
  if (lock.message !== undefined) out.message = lock.message;
  if (lock.expires !== undefined) out.expires = formatRfc3339(lock.expires);
  if (lock.createdBy !== undefined) out.created_by = lock.createdBy;
  if (lock.createdAt !== undefined) out.created_at = formatRfc3339(lock.createdAt);
  out.target = target;
  return out;
}

function _target(r: TableReader): LockTarget {
  const t = r.table("target", _TARGET_KEYS);
  const target: LockTarget = {};
  for (const [internal, external] of LOCK_TARGET_FIELDS) {
    const v = t?.string(external);
    if (v === undefined) continue;
    if (v === "") t!.fail(external, "must not be empty");
    target[internal] = v;
  }
  if (Object.keys(target).length === 0) r.fail("target", "lock needs at least one target");
  return target;
}

// The message is shown on users' terminals: one line, no control characters, bounded.
function _checkMessage(r: TableReader, message: string): string {
  if (/[\x00-\x1f\x7f]/.test(message)) r.fail("message", `must be one line without control characters, got ${describe(message)}`);
  if (message.length > _MAX_MESSAGE) r.fail("message", `must be at most ${_MAX_MESSAGE} characters`);
  return message;
}
