// Resources as operators write them (TOML files, API JSON): parse, validate, and convert back.
// The external form is snake_case; the types in resource-types.ts are the internal form.

import TOML from "@iarna/toml";
import { clusterConfigToExternal, parseClusterConfig } from "./cluster-config-resource.ts";
import { lockToExternal, parseLock } from "./lock-resource.ts";
import { RESOURCE_KINDS, type Resource, type ResourceKind, type ResourceParseOptions } from "./resource-types.ts";
import { parseRole, roleToExternal } from "./role-resource.ts";
import { describe, isTable, joinKey, TableReader } from "./table-reader.ts";
import { parseTomlText } from "./toml-text.ts";
import { parseUser, userToExternal } from "./user-resource.ts";
import { ValidationError } from "./validation-error.ts";

const _KEYS: Record<ResourceKind, readonly string[]> = {
  role: ["kind", "name", "options", "allow", "deny"],
  user: ["kind", "name", "roles", "created_at"],
  lock: ["kind", "name", "message", "expires", "target", "created_by", "created_at"],
  cluster_config: [
    "kind", "name", "session_recording", "locking_mode", "session_control_timeout", "lock_max_staleness",
  ],
};

/** Validates one resource in external form (a parsed TOML table or API JSON object). */
export function parseResource(obj: unknown, file: string, opts: ResourceParseOptions): Resource {
  return _parseAt(obj, file, "", opts);
}

/** Parses a TOML file holding one resource at the top level or several as `[[resource]]` tables. */
export function parseResourceText(text: string, file: string, opts: ResourceParseOptions): Resource[] {
  const doc = parseTomlText(text, file);
  const keys = Object.keys(doc);
  if (keys.length === 0) throw new ValidationError(file, "", "no resource in file");
  if (!("resource" in doc)) return [_parseAt(doc, file, "", opts)];
  const list = doc.resource;
  if (keys.length > 1) {
    throw new ValidationError(file, keys.find((k) => k !== "resource")!, "cannot mix top-level keys with [[resource]] tables");
  }
  if (!Array.isArray(list) || list.length === 0) {
    throw new ValidationError(file, "resource", `expected [[resource]] tables, got ${describe(list)}`);
  }
  return list.map((item, i) => _parseAt(item, file, `resource[${i}]`, opts));
}

/** The external form: snake_case keys, durations as "8h", dates as RFC 3339; parseResource reads it back. */
export function toExternal(r: Resource): Record<string, unknown> {
  switch (r.kind) {
    case "role":
      return roleToExternal(r);
    case "user":
      return userToExternal(r);
    case "lock":
      return lockToExternal(r);
    case "cluster_config":
      return clusterConfigToExternal(r);
  }
}

/** The external form as a TOML document, as `ctl get --format toml` prints it. */
export function resourceToToml(r: Resource): string {
  return TOML.stringify(toExternal(r) as Parameters<typeof TOML.stringify>[0]);
}

function _parseAt(obj: unknown, file: string, path: string, opts: ResourceParseOptions): Resource {
  const kind = _kind(obj, file, path);
  const r = TableReader.of(obj, file, path, _KEYS[kind]);
  switch (kind) {
    case "role":
      return parseRole(r);
    case "user":
      return parseUser(r);
    case "lock":
      return parseLock(r, opts);
    case "cluster_config":
      return parseClusterConfig(r);
  }
}

function _kind(obj: unknown, file: string, path: string): ResourceKind {
  if (!isTable(obj)) throw new ValidationError(file, path, `expected a table, got ${describe(obj)}`);
  const kind = obj.kind ?? undefined;
  const key = joinKey(path, "kind");
  if (kind === undefined) throw new ValidationError(file, key, "required");
  if (typeof kind !== "string") throw new ValidationError(file, key, `expected a string, got ${describe(kind)}`);
  if (!(RESOURCE_KINDS as readonly string[]).includes(kind)) {
    throw new ValidationError(file, key, `unknown kind ${describe(kind)} (expected one of ${RESOURCE_KINDS.join(", ")})`);
  }
  return kind as ResourceKind;
}
