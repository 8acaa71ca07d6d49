// The roles the auth service creates on first start: admin, auditor and access.
// Each call returns fresh objects, so callers may modify them.

import { API_RESOURCES, VERBS, type Role, type Rule } from "./resource-types.ts";

/** admin: every API rule; auditor: list/read on session, recording, event; access: SSH-only template. */
export function builtinRoles(): Role[] {
  return [
    _role("admin", [{ resources: [...API_RESOURCES], verbs: [...VERBS] }]),
    _role("auditor", [{ resources: ["session", "recording", "event"], verbs: ["list", "read"] }]),
    // A template for SSH-only roles: no API rules, and no logins until an operator adds them.
    _role("access", []),
  ];
}

// No built-in role grants OS logins: operators give those through their own roles.
function _role(name: string, rules: Rule[]): Role {
  return {
    kind: "role",
    name,
    options: {},
    allow: { logins: [], nodeLabels: {}, rules },
    deny: { logins: [], rules: [] },
  };
}
