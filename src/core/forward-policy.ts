// Whether a connection may forward: ports out of the node (local: -L, -D, -J), ports
// and sockets into it (remote: -R), and the person's SSH agent (-A). Pure policy.
import type { Role } from "./resource-types.ts";

export type ForwardKind = "local" | "remote" | "agent";

/** What the user certificate allows (its permit-port-forwarding / permit-agent-forwarding extensions). */
export interface CertForwardPermits {
  portForwarding: boolean;
  agentForwarding: boolean;
}

/** Why a forward was refused, as data: the certificate or a named role. */
export type ForwardRefusal =
  | { by: "certificate"; kind: ForwardKind; reason: string }
  | { by: "role"; kind: ForwardKind; role: string; reason: string };

/**
 * Role defaults when no role says anything: local, remote and agent forwarding on (as
 * sshd's AllowTcpForwarding and AllowAgentForwarding), remote listeners on loopback only
 * (as sshd's GatewayPorts=no). Because the most restrictive role wins, a default of "off"
 * would make every role of a person opt in; "on" lets one role opt out.
 */
export const FORWARD_DEFAULTS = { local: true, remote: true, agent: true, gatewayPorts: false } as const;

const CERT_EXTENSION: Record<ForwardKind, string> = {
  local: "permit-port-forwarding", remote: "permit-port-forwarding", agent: "permit-agent-forwarding",
};

const LABEL: Record<ForwardKind, string> = {
  local: "port forwarding", remote: "remote port forwarding", agent: "agent forwarding",
};

/** The first role that says false wins; else any role that says true; else the default. */
function roleSetting(roles: Role[], read: (r: Role) => boolean | undefined, fallback: boolean): { value: boolean; role?: string } {
  const denier = roles.find((r) => read(r) === false);
  if (denier) return { value: false, role: denier.name };
  if (roles.some((r) => read(r) === true)) return { value: true };
  return { value: fallback };
}

const ROLE_READERS: Record<ForwardKind, (r: Role) => boolean | undefined> = {
  local: (r) => r.options.portForwarding?.local,
  remote: (r) => r.options.portForwarding?.remote,
  agent: (r) => r.options.forwardAgent,
};

/** Undefined = allowed; otherwise the refusal with the reason the client is shown. */
export function checkForward(kind: ForwardKind, roles: Role[], cert: CertForwardPermits): ForwardRefusal | undefined {
  const certOk = kind === "agent" ? cert.agentForwarding : cert.portForwarding;
  if (!certOk) return { by: "certificate", kind, reason: `${LABEL[kind]} is not permitted by the certificate (no ${CERT_EXTENSION[kind]})` };
  const setting = roleSetting(roles, ROLE_READERS[kind], FORWARD_DEFAULTS[kind]);
  if (setting.value) return undefined;
  const role = setting.role ?? "(default)";
  return { by: "role", kind, role, reason: `${LABEL[kind]} is not allowed by role ${JSON.stringify(role)}` };
}

/** Whether -R listeners may bind beyond loopback (sshd's GatewayPorts). */
export function gatewayPortsAllowed(roles: Role[]): boolean {
  return roleSetting(roles, (r) => r.options.portForwarding?.gatewayPorts, FORWARD_DEFAULTS.gatewayPorts).value;
}

/**
 * Where a -R listener binds, as sshd with GatewayPorts=no (or "clientspecified" when the
 * roles allow): loopback unless allowed, then the client's address ("" and "*" = all).
 */
export function remoteBindAddress(requested: string, gatewayPorts: boolean): string {
  if (!gatewayPorts) return requested === "::1" ? "::1" : "127.0.0.1";
  if (requested === "" || requested === "*" || requested === "0.0.0.0") return "0.0.0.0";
  if (requested === "localhost") return "127.0.0.1";
  return requested;
}
