// The escalation rule (as Kubernetes RBAC's): nobody grants an API permission they do
// not hold themselves — not by writing a role, not by giving a user a role, not by
// signing a certificate for a more powerful user, not by deleting a role that denies.
import { ruleAllows } from "../core/access-policy.ts";
import { API_RESOURCES, VERBS, type ApiResource, type Resource, type Role, type User, type Verb } from "../core/resource-types.ts";
import { applyChange, type PendingChange } from "./admin-guard.ts";
import type { ApiRefusal } from "./api-refusal.ts";
import type { Store } from "./store.ts";

/** Who makes a change: the person's name and current roles. */
export interface Grantor {
  name: string;
  roles: Role[];
}

type Permission = `${ApiResource}:${Verb}`;

/** The refusal for a change that would grant what the grantor does not hold; undefined when it grants nothing new. */
export async function escalationRefusal(store: Store, grantor: Grantor, change: PendingChange, verb: Verb): Promise<ApiRefusal | undefined> {
  const kind = "put" in change ? change.put.kind : change.delete.kind;
  if (kind !== "role" && kind !== "user") return undefined;
  const held = permissionsOf(grantor.roles);
  const roles = new Map((await store.listResources("role")).map((r) => [r.name, r] as [string, Role]));
  const users = new Map((await store.listResources("user")).map((u) => [u.name, u] as [string, User]));
  const refuse = (message: string): ApiRefusal => ({ resource: kind, verb, reason: "escalation", message: `refused: ${message} (nobody grants a permission they do not hold)` });
  const direct = "put" in change ? directGrant(change.put, roles, users, held) : undefined;
  if (direct) return refuse(direct);
  const before = new Map([...users.values()].map((u) => [u.name, permissionsOf(rolesOf(u, roles))]));
  applyChange(change, roles, users);
  for (const u of users.values()) {
    const gained = [...permissionsOf(rolesOf(u, roles))].filter((p) => !before.get(u.name)?.has(p) && !held.has(p));
    if (gained.length > 0) return refuse(`this change would give user ${JSON.stringify(u.name)} ${describe(gained)}, which you do not hold`);
  }
  return undefined;
}

/** Signing a certificate for another user hands over that user's permissions. */
export async function certificateRefusal(store: Store, grantor: Grantor, userName: string): Promise<ApiRefusal | undefined> {
  if (userName === grantor.name) return undefined;
  const user = await store.getResource("user", userName);
  if (!user) return undefined; // the service answers 404
  const held = permissionsOf(grantor.roles);
  const roles = (await Promise.all(user.roles.map((n) => store.getResource("role", n)))).filter((r): r is Role => r !== undefined);
  const missing = [...permissionsOf(roles)].filter((p) => !held.has(p));
  if (missing.length === 0) return undefined;
  return {
    resource: "user", verb: "update", reason: "escalation",
    message: `refused: a certificate for user ${JSON.stringify(userName)} would give its holder ${describe(missing)}, which you do not hold (nobody grants a permission they do not hold)`,
  };
}

/** A role's own allow rules, or the roles newly given to a user, must be within what the grantor holds. */
function directGrant(r: Resource, roles: Map<string, Role>, users: Map<string, User>, held: Set<Permission>): string | undefined {
  if (r.kind === "role") {
    const missing = [...permissionsOf([{ ...r, deny: { ...r.deny, rules: [] } }])].filter((p) => !held.has(p));
    return missing.length ? `role ${JSON.stringify(r.name)} would allow ${describe(missing)}, which you do not hold` : undefined;
  }
  if (r.kind !== "user") return undefined;
  const had = new Set(users.get(r.name)?.roles ?? []);
  for (const name of r.roles.filter((n) => !had.has(n))) {
    const role = roles.get(name);
    if (!role) continue; // the service refuses unknown roles
    const missing = [...permissionsOf([{ ...role, deny: { ...role.deny, rules: [] } }])].filter((p) => !held.has(p));
    if (missing.length) return `you cannot give role ${JSON.stringify(name)}: it allows ${describe(missing)}, which you do not hold`;
  }
  return undefined;
}

function permissionsOf(roles: Role[]): Set<Permission> {
  const out = new Set<Permission>();
  for (const resource of API_RESOURCES) for (const verb of VERBS) if (ruleAllows(roles, resource, verb)) out.add(`${resource}:${verb}`);
  return out;
}

function rolesOf(u: User, roles: Map<string, Role>): Role[] {
  return u.roles.map((n) => roles.get(n)).filter((r): r is Role => r !== undefined);
}

/** "update on role, create on user" — at most a few, so the message stays one line. */
function describe(perms: Permission[]): string {
  const shown = perms.slice(0, 4).map((p) => { const [res, verb] = p.split(":"); return `"${verb}" on "${res}"`; });
  return shown.join(", ") + (perms.length > 4 ? ` and ${perms.length - 4} more` : "");
}
