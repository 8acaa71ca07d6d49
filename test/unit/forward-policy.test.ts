import { describe, expect, test } from "bun:test";
import { checkForward, gatewayPortsAllowed, remoteBindAddress, type ForwardKind } from "../../src/core/forward-policy.ts";
import { parseResourceText, toExternal } from "../../src/core/resources.ts";
import type { Role, RoleOptions } from "../../src/core/resource-types.ts";

const role = (name: string, options: RoleOptions = {}): Role => ({
  kind: "role", name, options, allow: { logins: ["root"], nodeLabels: {}, rules: [] }, deny: { logins: [], rules: [] },
});
const both = { portForwarding: true, agentForwarding: true };

describe("checkForward", () => {
  const cases: [string, ForwardKind, Role[], typeof both, string | undefined][] = [
    ["defaults allow local", "local", [role("a")], both, undefined],
    ["defaults allow remote", "remote", [role("a")], both, undefined],
    ["defaults allow agent", "agent", [role("a")], both, undefined],
    ["one role saying false wins", "local", [role("a", { portForwarding: { local: true } }), role("b", { portForwarding: { local: false } })], both, 'port forwarding is not allowed by role "b"'],
    ["remote off, local still on", "local", [role("a", { portForwarding: { remote: false } })], both, undefined],
    ["remote off", "remote", [role("a", { portForwarding: { remote: false } })], both, 'remote port forwarding is not allowed by role "a"'],
    ["agent off", "agent", [role("a"), role("x", { forwardAgent: false })], both, 'agent forwarding is not allowed by role "x"'],
    ["certificate without permit-port-forwarding", "local", [role("a")], { ...both, portForwarding: false }, "port forwarding is not permitted by the certificate (no permit-port-forwarding)"],
    ["certificate without permit-port-forwarding, remote", "remote", [role("a")], { ...both, portForwarding: false }, "remote port forwarding is not permitted by the certificate (no permit-port-forwarding)"],
    ["certificate without permit-agent-forwarding", "agent", [role("a")], { ...both, agentForwarding: false }, "agent forwarding is not permitted by the certificate (no permit-agent-forwarding)"],
    ["certificate checked before roles", "agent", [role("x", { forwardAgent: false })], { ...both, agentForwarding: false }, "agent forwarding is not permitted by the certificate (no permit-agent-forwarding)"],
  ];
  for (const [name, kind, roles, cert, want] of cases) {
    test(name, () => expect(checkForward(kind, roles, cert)?.reason).toBe(want));
  }

  test("a role refusal names its role as data", () => {
    expect(checkForward("local", [role("b", { portForwarding: { local: false } })], both)).toMatchObject({ by: "role", role: "b", kind: "local" });
  });
});

describe("remote bind address (GatewayPorts)", () => {
  test("off by default: loopback whatever is asked", () => {
    expect(gatewayPortsAllowed([role("a")])).toBe(false);
    for (const asked of ["", "*", "0.0.0.0", "10.1.2.3", "localhost"]) expect(remoteBindAddress(asked, false)).toBe("127.0.0.1");
    expect(remoteBindAddress("::1", false)).toBe("::1");
  });
  test("a role with gateway_ports = true: the client's choice, unless another role says false", () => {
    expect(gatewayPortsAllowed([role("a", { portForwarding: { gatewayPorts: true } })])).toBe(true);
    expect(gatewayPortsAllowed([role("a", { portForwarding: { gatewayPorts: true } }), role("b", { portForwarding: { gatewayPorts: false } })])).toBe(false);
    expect(remoteBindAddress("*", true)).toBe("0.0.0.0");
    expect(remoteBindAddress("", true)).toBe("0.0.0.0");
    expect(remoteBindAddress("10.1.2.3", true)).toBe("10.1.2.3");
  });
});

const parse = (text: string) => parseResourceText(text, "role.toml", { now: new Date(), newName: () => "x" })[0] as Role;

describe("role options", () => {
  const toml = 'kind = "role"\nname = "r"\n[options]\nport_forwarding = { local = true, remote = false, gateway_ports = false }\nforward_agent = false\n[allow]\nlogins = ["root"]';
  test("parse and round trip", () => {
    const r = parse(toml);
    expect(r.options).toEqual({ portForwarding: { local: true, remote: false, gatewayPorts: false }, forwardAgent: false });
    expect((toExternal(r) as { options: unknown }).options).toEqual({ port_forwarding: { local: true, remote: false, gateway_ports: false }, forward_agent: false });
  });
  test("bad values are refused with file, key and reason", () => {
    expect(() => parse(toml.replace("remote = false", 'remote = "no"'))).toThrow('role.toml: options.port_forwarding.remote: expected true or false, got "no"');
    expect(() => parse(toml.replace("gateway_ports", "gateway"))).toThrow("gateway");
  });
});
