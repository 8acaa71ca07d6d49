// `hostward ctl known-hosts [--format openssh|known_hosts|putty]`: what each SSH client
// needs to trust the agents' host keys without a prompt.
import { parseHostPort } from "../core/host-port.ts";
import { fingerprint, parseAuthorizedKeyLine } from "../core/ssh-key.ts";
import { parse } from "./args.ts";
import type { CtlCommand } from "./context.ts";
import { usage } from "../platform/cli-error.ts";

interface KnownHostsAnswer {
  host_ca_keys: string[];
  nodes?: { hostname: string; addr: string; host_key: string }[];
}

const FORMATS = ["openssh", "known_hosts", "putty"] as const;
type KnownHostsFormat = (typeof FORMATS)[number];

export const knownHosts: CtlCommand = async (args, ctx) => {
  const { values } = parse(args, { format: { type: "string", default: "openssh" } }, "known-hosts");
  const fmt = values.format as KnownHostsFormat;
  if (!FORMATS.includes(fmt)) throw usage(`known-hosts: --format must be one of ${FORMATS.join(", ")}`);
  const perNode = fmt !== "openssh";
  const res = await ctx.client().request<KnownHostsAnswer>("GET", perNode ? "/v1/known-hosts?nodes=1" : "/v1/known-hosts");
  for (const line of render(fmt, res)) console.log(line);
};

/**
 * openssh: one @cert-authority line that trusts every node's host certificate, present
 * and future (OpenSSH only). known_hosts: one plain line per node (paramiko, and any
 * known_hosts reader). putty: each node's fingerprint for `plink -hostkey`.
 */
export function render(fmt: KnownHostsFormat, res: KnownHostsAnswer): string[] {
  if (fmt === "openssh") return res.host_ca_keys.map((line) => `@cert-authority * ${line}`);
  return (res.nodes ?? []).map((n) => {
    const { host, port } = parseHostPort(n.addr, 3022);
    const key = parseAuthorizedKeyLine(n.host_key);
    const patterns = [...new Set([host, n.hostname])].map((h) => (port === 22 ? h : `[${h}]:${port}`));
    if (fmt === "putty") return `${n.hostname} ${n.addr} ${fingerprint(key.blob)}`;
    return `${patterns.join(",")} ${key.type} ${Buffer.from(key.blob).toString("base64")}`;
  });
}
