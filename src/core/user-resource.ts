// The user resource: validation of its external form and conversion back to it.
// A user is a name and the roles it holds (at least one).

import { badNameReason, readName } from "./resource-name.ts";
import type { User } from "./resource-types.ts";
import { formatRfc3339 } from "./rfc3339.ts";
import type { TableReader } from "./table-reader.ts";

export function parseUser(r: TableReader): User {
  const name = readName(r, "user");
  const roles = r.stringList("roles", badNameReason);
  if (!roles || roles.length === 0) r.fail("roles", "a user needs at least one role");
  const user: User = { kind: "user", name, roles };
  const createdAt = r.date("created_at");
  if (createdAt !== undefined) user.createdAt = createdAt;
  return user;
}

export function userToExternal(user: User): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: "user", name: user.name, roles: [...user.roles] };
  if (user.createdAt !== undefined) out.created_at = formatRfc3339(user.createdAt);
  return out;
}
