// `hostward ctl status`: the cluster, its CA pin, and who you are.
import { parse, format, FORMAT_FLAG } from "./args.ts";
import type { CtlCommand } from "./context.ts";

interface Status { cluster_name: string; ca_pin: string; version: string; nodes: number; revision: number; you: { user?: string; roles?: string[] } }

export const status: CtlCommand = async (args, ctx) => {
  const { values } = parse(args, FORMAT_FLAG, "status");
  const client = ctx.client();
  const s = await client.request<Status>("GET", "/v1/status");
  if (format(values.format) === "json") return void console.log(JSON.stringify({ ...s, auth_server: client.authServer }, null, 2));
  console.log(`Cluster:      ${s.cluster_name}`);
  console.log(`Auth server:  ${client.authServer}`);
  console.log(`CA pin:       ${s.ca_pin}`);
  console.log(`Version:      ${s.version}`);
  console.log(`Nodes:        ${s.nodes}`);
  console.log(`You:          ${s.you.user} (roles: ${(s.you.roles ?? []).join(", ") || "none"})`);
};
