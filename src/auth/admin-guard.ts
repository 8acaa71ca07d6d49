// Refuses a change that would leave no user able to change roles: deleting or
// stripping the last role (or user) that grants role:update would lock every
// operator out of the control plane for good.
import { ruleAllows } from "../core/access-policy.ts";
import type { Resource, Role, User } from "../core/resource-types.ts";
import { conflict } from "./http-error.ts";
import type { Store } from "./store.ts";

export type PendingChange = { put: Resource } | { delete: { kind: Resource["kind"]; name: string } };

/** Call inside store.atomically holding tx.lock("admins"), so that the check and the write are one step. */
export async function guardLastAdmin(store: Store, change: PendingChange): Promise<void> {
  if (!touchesAdmins(change)) return;
  const roles = new Map((await store.listResources("role")).map((r) => [r.name, r] as [string, Role]));
  const users = new Map((await store.listResources("user")).map((u) => [u.name, u] as [string, User]));
  if (!canAdminister(roles, users)) return; // already without an administrator: do not block repairs
  applyChange(change, roles, users);
  if (!canAdminister(roles, users)) {
    throw conflict("refused: after this change no user could update roles (the last role:update grant would be gone)");
  }
}

function touchesAdmins(change: PendingChange): boolean {
  const kind = "put" in change ? change.put.kind : change.delete.kind;
  return kind === "role" || kind === "user";
}

function canAdminister(roles: Map<string, Role>, users: Map<string, User>): boolean {
  for (const u of users.values()) {
    const held = u.roles.map((n) => roles.get(n)).filter((r): r is Role => r !== undefined);
    if (ruleAllows(held, "role", "update")) return true;
  }
  return false;
}

/** Applies a pending change to in-memory copies of the roles and users. */
export function applyChange(change: PendingChange, roles: Map<string, Role>, users: Map<string, User>): void {
  if ("put" in change) {
    if (change.put.kind === "role") roles.set(change.put.name, change.put);
    if (change.put.kind === "user") users.set(change.put.name, change.put);
    return;
  }
  if (change.delete.kind === "role") roles.delete(change.delete.name);
  if (change.delete.kind === "user") users.delete(change.delete.name);
}
