// The operator's first identity, written by `auth start`: a key and a
// user certificate for the built-in "admin" user, in <data_dir>/admin.identity (0600).
import { existsSync } from "node:fs";
import { encodeOpenSshPrivateKey } from "../core/openssh-private-key.ts";
import { formatAuthorizedKey, generateEd25519 } from "../core/ssh-key.ts";
import { parseCertificate } from "../core/sshcert.ts";
import { parseAuthorizedKeyLine } from "../core/ssh-key.ts";
import type { Duration } from "../core/duration.ts";
import { readIdentity, writeIdentity } from "../platform/identity-file.ts";
import { caPinFromPem } from "../core/ca-pin.ts";
import type { AuthService } from "./auth-service.ts";

const ADMIN_TTL = (365 * 24 * 3600 * 1000) as Duration;
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

/** Writes the identity when missing, or renews it when its certificate is near expiry or from another CA. */
export async function ensureAdminIdentity(path: string, svc: AuthService, authAddr: string, caCertPem: string): Promise<void> {
  if (existsSync(path) && stillGood(path, svc)) return keepAddressCurrent(path, authAddr);
  const key = generateEd25519();
  const cert = await svc.signUserCert("admin", formatAuthorizedKey("ssh-ed25519", key.publicBlob, "admin"), ADMIN_TTL);
  writeIdentity(path, {
    authServer: authAddr,
    caPin: caPinFromPem(caCertPem),
    caCertPem,
    keyPem: encodeOpenSshPrivateKey(key.privateKey, "hostward admin"),
    cert: cert.line,
  });
}

function stillGood(path: string, svc: AuthService): boolean {
  try {
    const id = readIdentity(path);
    const cert = parseCertificate(parseAuthorizedKeyLine(id.cert ?? "").blob);
    const expires = Number(cert.validBefore) * 1000;
    return Buffer.compare(Buffer.from(cert.signatureKey), Buffer.from(svc.cas.user.publicBlob)) === 0 &&
      expires - svc.now().getTime() > RENEW_BEFORE_MS;
  } catch {
    return false;
  }
}

/** `public_addr` may change after first start; the identity should follow it. */
function keepAddressCurrent(path: string, authAddr: string): void {
  const id = readIdentity(path);
  if (id.authServer !== authAddr) writeIdentity(path, { ...id, authServer: authAddr });
}
