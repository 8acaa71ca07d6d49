// Decides whether a certificate login may proceed: our user CA, user
// type, validity, exact principal, source-address, critical options, a known user
// whose roles allow this login on this node, and the access guard (locks, staleness).
import { checkLogin as roleCheck } from "../core/access-policy.ts";
import type { RefusalKind } from "../core/refusal-kind.ts";
import { certAlgorithm, isCertificateType, parseCertificate, checkCertificate, type SshCertificate } from "../core/sshcert.ts";
import type { AccessGuard, AccessSubject } from "./access-guard.ts";
import { certAttributes } from "./cert-attributes.ts";
import type { ClusterView } from "./cluster-view.ts";

export interface LoginAttempt {
  login: string;
  keyAlgo: string;
  keyData: Uint8Array;
  clientAddress: string;
}

export type LoginDecision =
  | { ok: true; subject: AccessSubject; cert: SshCertificate }
  | { ok: false; reason: string; user?: string; kind: RefusalKind; plainKey?: boolean };

export function decideLogin(a: LoginAttempt, view: ClusterView, guard: AccessGuard, labels: Record<string, string>, now: Date): LoginDecision {
  const algo = certAlgorithm(a.keyAlgo);
  if (!algo && isCertificateType(a.keyAlgo)) return { ok: false, kind: "certificate", reason: `${a.keyAlgo} (SHA-1 signatures) is not accepted: use rsa-sha2-256 or rsa-sha2-512` };
  if (!algo) return { ok: false, kind: "certificate", plainKey: true, reason: "plain keys are not accepted: log in with a hostward user certificate" };
  let cert: SshCertificate;
  try {
    cert = parseCertificate(a.keyData);
  } catch (e) {
    return { ok: false, kind: "certificate", reason: `malformed certificate: ${(e as Error).message}` };
  }
  if (cert.type !== algo.certType) return { ok: false, kind: "certificate", reason: `a ${cert.type} certificate offered as ${a.keyAlgo}` };
  const check = checkCertificate(cert, { caKeys: view.userCaKeys, certType: "user", now, principal: a.login, clientAddress: a.clientAddress });
  if (!check.ok) return { ok: false, kind: check.kind, reason: check.reason, user: cert.keyId };
  const user = view.users.get(cert.keyId);
  if (!user) return { ok: false, kind: "unknown_user", reason: `user ${JSON.stringify(cert.keyId)} is not known to this cluster`, user: cert.keyId };
  const roles = view.rolesOf(user.name);
  const allowed = roleCheck(roles, a.login, labels);
  if (!allowed.ok) return { ok: false, kind: "policy", reason: allowed.reason, user: user.name };
  const subject: AccessSubject = { user: user.name, roleNames: user.roles, roles, login: a.login, certAttributes: certAttributes(cert) };
  const refusal = guard.check(subject);
  if (refusal) return { ok: false, ...refusal, user: user.name };
  return { ok: true, subject, cert };
}
