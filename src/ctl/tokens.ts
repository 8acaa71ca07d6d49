// `hostward ctl tokens add|ls`: join tokens for new nodes, printed with the exact
// lines that join a host (agent config keys and the install.sh command).
import { parse, format, FORMAT_FLAG } from "./args.ts";
import type { CtlCommand } from "./context.ts";
import { usage } from "../platform/cli-error.ts";
import { printRows } from "./table.ts";

export const tokens: CtlCommand = async (args, ctx) => {
  const [sub, ...rest] = args;
  if (sub === "add") return add(rest, ctx);
  if (sub === "ls") return list(rest, ctx);
  throw usage("usage: hostward ctl tokens add [--ttl 30m] [--reusable] | tokens ls");
};

const add: CtlCommand = async (args, ctx) => {
  const { values } = parse(args, { ttl: { type: "string" }, reusable: { type: "boolean" }, ...FORMAT_FLAG }, "tokens add");
  const client = ctx.client();
  const t = await client.request<{ token: string; expires: string; ca_pin: string; auth_servers?: string[] }>("POST", "/v1/tokens", { ttl: values.ttl ?? "30m", reusable: values.reusable ?? false });
  // Several live replicas with addresses of their own: the host is told about all of them.
  const servers = Array.isArray(t.auth_servers) && t.auth_servers.length > 1 ? t.auth_servers : [client.authServer];
  if (format(values.format) === "json") return void console.log(JSON.stringify({ ...t, auth_server: client.authServer, auth_servers: servers }, null, 2));
  console.log(`Join token: ${t.token}`);
  console.log(`Expires:    ${t.expires}${values.reusable ? " (reusable)" : " (single use)"}`);
  console.log(`CA pin:     ${t.ca_pin}`);
  console.log("");
  console.log("Install and join a host (as root, from a hostward checkout or with --binary):");
  console.log(`  ./install.sh --role agent --auth-server ${servers.join(",")} --token ${t.token} --ca-pin ${t.ca_pin}`);
  console.log("");
  console.log("Or put these in the host's agent.toml and run `hostward agent start`:");
  console.log(servers.length > 1 ? `  auth_servers = [${servers.map((s) => JSON.stringify(s)).join(", ")}]` : `  auth_server = "${servers[0]}"`);
  console.log(`  join_token = "${t.token}"`);
  console.log(`  ca_pin = "${t.ca_pin}"`);
};

const list: CtlCommand = async (args, ctx) => {
  const { values } = parse(args, FORMAT_FLAG, "tokens ls");
  const rows = await ctx.client().request<Record<string, unknown>[]>("GET", "/v1/tokens");
  printRows(rows, [["hash_prefix", "Token (hash)"], ["expires", "Expires"], ["reusable", "Reusable"], ["created_by", "Created by"]], format(values.format));
};
