// Lock-relevant attributes a certificate may carry in hostward extensions, so that
// locks on a device, an MFA device or an access request can cut SSH access too.
import type { AccessAttributes } from "../core/lock-match.ts";
import type { SshCertificate } from "../core/sshcert.ts";

export const DEVICE_EXTENSION = "device-id@hostward";
export const MFA_DEVICE_EXTENSION = "mfa-device@hostward";
export const ACCESS_REQUESTS_EXTENSION = "access-requests@hostward";

export function certAttributes(cert: SshCertificate): Pick<AccessAttributes, "device" | "mfaDevice" | "accessRequests"> {
  const ext = cert.extensions;
  const requests = ext.get(ACCESS_REQUESTS_EXTENSION);
  return {
    ...(ext.get(DEVICE_EXTENSION) ? { device: ext.get(DEVICE_EXTENSION) } : {}),
    ...(ext.get(MFA_DEVICE_EXTENSION) ? { mfaDevice: ext.get(MFA_DEVICE_EXTENSION) } : {}),
    ...(requests ? { accessRequests: requests.split(",").filter(Boolean) } : {}),
  };
}
