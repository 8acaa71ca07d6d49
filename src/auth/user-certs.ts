// Issues OpenSSH user certificates: key id = hostward user, principals = the logins
// the user's roles allow, TTL capped by the roles' max_session_ttl.
import { allowedLogins, sessionLimits } from "../core/access-policy.ts";
import type { Duration } from "../core/duration.ts";
import type { Role, User } from "../core/resource-types.ts";
import { certificateToLine, signCertificate } from "../core/sshcert.ts";
import type { SshPublicKey } from "../core/ssh-key.ts";
import type { SshCa } from "./ssh-cas.ts";

export const ROLES_EXTENSION = "roles@hostward";
const CLOCK_SKEW_MS = 60_000;
const PERMITS = ["permit-X11-forwarding", "permit-agent-forwarding", "permit-port-forwarding", "permit-pty", "permit-user-rc"];

export interface IssuedCert {
  line: string;
  validBefore: Date;
  principals: string[];
}

export function issueUserCert(user: User, roles: Role[], key: SshPublicKey, ttl: Duration, ca: SshCa, now: Date): IssuedCert {
  const cap = sessionLimits(roles).maxSessionTtl;
  const effective = cap !== undefined && cap < ttl ? cap : ttl;
  const principals = allowedLogins(roles);
  const validBefore = new Date(now.getTime() + effective);
  const extensions = new Map<string, string>(PERMITS.map((p) => [p, ""]));
  extensions.set(ROLES_EXTENSION, user.roles.join(","));
  const blob = signCertificate({
    certType: "user",
    key,
    keyId: user.name,
    principals,
    validAfter: new Date(now.getTime() - CLOCK_SKEW_MS),
    validBefore,
    extensions,
  }, ca);
  return { line: certificateToLine(blob, user.name), validBefore, principals };
}

export function issueHostCert(serverId: string, names: string[], key: SshPublicKey, ca: SshCa, now: Date, ttlMs: number): string {
  const principals = [...new Set([serverId, ...names])].filter((n) => n !== "");
  const blob = signCertificate({
    certType: "host",
    key,
    keyId: serverId,
    principals,
    validAfter: new Date(now.getTime() - CLOCK_SKEW_MS),
    validBefore: new Date(now.getTime() + ttlMs),
  }, ca);
  return certificateToLine(blob, serverId);
}
