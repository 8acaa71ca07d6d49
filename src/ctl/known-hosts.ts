// `hostward ctl known-hosts`: the @cert-authority line that lets OpenSSH clients
// trust every agent's host certificate without a prompt.
import type { CtlCommand } from "./context.ts";

export const knownHosts: CtlCommand = async (_args, ctx) => {
  const res = await ctx.client().request<{ host_ca_keys: string[] }>("GET", "/v1/known-hosts");
  for (const line of res.host_ca_keys) console.log(`@cert-authority * ${line}`);
};
