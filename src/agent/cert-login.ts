// Decides whether a certificate login may proceed (DESIGN §2): our user CA, user
// type, validity, exact principal, source-address, critical options, a known user
// whose roles allow this login on this node, and no lock in force.
import { checkLogin as roleCheck } from "../core/access-policy.ts";
import { lockMessage } from "../core/lock-match.ts";
import type { Role } from "../core/resources.ts";
import { isCertificateType, parseCertificate, checkCertificate, type SshCertificate } from "../core/sshcert.ts";
import type { ClusterView } from "./cluster-view.ts";

export interface LoginAttempt {
  login: string;
  keyAlgo: string;
  keyData: Uint8Array;
  clientAddress: string;
}

export type LoginDecision =
  | { ok: true; user: string; roles: Role[]; cert: SshCertificate }
  | { ok: false; reason: string; user?: string; kind: "certificate" | "policy" | "lock"; plainKey?: boolean };

export function decideLogin(a: LoginAttempt, view: ClusterView, node: { serverId: string; labels: Record<string, string> }, now: Date): LoginDecision {
  if (!isCertificateType(a.keyAlgo)) return { ok: false, kind: "certificate", plainKey: true, reason: "plain keys are not accepted: log in with a hostward user certificate" };
  let cert: SshCertificate;
  try {
    cert = parseCertificate(a.keyData);
  } catch (e) {
    return { ok: false, kind: "certificate", reason: `malformed certificate: ${(e as Error).message}` };
  }
  const check = checkCertificate(cert, { caKeys: view.userCaKeys, certType: "user", now, principal: a.login, clientAddress: a.clientAddress });
  if (!check.ok) return { ok: false, kind: "certificate", reason: check.reason, user: cert.keyId };
  const user = view.users.get(cert.keyId);
  if (!user) return { ok: false, kind: "policy", reason: `user ${JSON.stringify(cert.keyId)} is not known to this cluster`, user: cert.keyId };
  const roles = view.rolesOf(user.name);
  const allowed = roleCheck(roles, a.login, node.labels);
  if (!allowed.ok) return { ok: false, kind: "policy", reason: allowed.reason, user: user.name };
  const lock = view.locks.match({ user: user.name, roles: user.roles, login: a.login, serverId: node.serverId }, now);
  if (lock) return { ok: false, kind: "lock", reason: lockMessage(lock), user: user.name };
  return { ok: true, user: user.name, roles, cert };
}
