// What a user certificate says beyond who it is: lock-relevant attributes in hostward
// extensions, and the OpenSSH restrictions (force-command, permit-*) as typed permissions.
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

/**
 * The certificate's restrictions, as sshd reads them: an extension's presence grants,
 * its absence denies (a certificate with no extensions gets no PTY and no forwarding).
 * `forceCommand` replaces whatever the client asks to run (shell, exec or subsystem).
 * portForwarding/agentForwarding are what core/forward-policy.ts checks (CertForwardPermits).
 * `x11Forwarding` and `userRc` are read but never granted here: the agent has no X11
 * forwarding and never runs ~/.ssh/rc.
 */
export interface CertPermissions {
  readonly pty: boolean;
  readonly portForwarding: boolean;
  readonly agentForwarding: boolean;
  readonly x11Forwarding: boolean;
  readonly userRc: boolean;
  readonly forceCommand?: string;
}

export function certPermissions(cert: SshCertificate): CertPermissions {
  const has = (name: string) => cert.extensions.has(name);
  const force = cert.criticalOptions.get("force-command");
  return {
    pty: has("permit-pty"),
    portForwarding: has("permit-port-forwarding"),
    agentForwarding: has("permit-agent-forwarding"),
    x11Forwarding: has("permit-X11-forwarding"),
    userRc: has("permit-user-rc"),
    ...(force !== undefined ? { forceCommand: force } : {}),
  };
}

export const X11_REFUSAL = "X11 forwarding is not supported by this agent";
export const PTY_REFUSAL = "PTY allocation is not permitted by your certificate (permit-pty)";
