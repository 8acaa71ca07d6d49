// Reading a resource's `name` key with the naming rules of its kind.
// Shared by the per-kind parsers so every kind reports a bad name the same way.

import { isValidName, type ResourceKind } from "./resource-types.ts";
import { describe, type TableReader } from "./table-reader.ts";

const _RULE: Record<ResourceKind, string> = {
  role: 'must start with a letter or digit and hold only letters, digits, ".", "_", "@" or "-" (at most 128)',
  user: 'must start with a letter or digit and hold only letters, digits, ".", "_", "@" or "-" (at most 128)',
  lock: "must be a UUID",
  cluster_config: 'must be "cluster_config"',
};

/** Reads a required name, or the fallback's name when the key is absent and a fallback exists. */
export function readName(r: TableReader, kind: ResourceKind, fallback?: () => string): string {
  const name = r.string("name") ?? fallback?.();
  if (name === undefined) r.fail("name", "required");
  if (!isValidName(kind, name)) r.fail("name", `${_RULE[kind]}, got ${describe(name)}`);
  return name;
}

/** Reason a role or user name is bad, or undefined when it is fine (for lists of names). */
export function badNameReason(name: string): string | undefined {
  return isValidName("role", name) ? undefined : `${_RULE.role}, got ${describe(name)}`;
}
