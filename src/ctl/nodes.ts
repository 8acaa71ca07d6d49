// `hostward ctl nodes ls`: registered nodes with state (online, offline, locked).
import { parse, format, FORMAT_FLAG } from "./args.ts";
import type { CtlCommand } from "./context.ts";
import { usage } from "../platform/cli-error.ts";
import { printRows } from "./table.ts";

export const nodes: CtlCommand = async (args, ctx) => {
  const [sub, ...rest] = args;
  if (sub !== "ls") throw usage("usage: hostward ctl nodes ls [--format json]");
  const { values } = parse(rest, FORMAT_FLAG, "nodes ls");
  const rows = await ctx.client().request<Record<string, unknown>[]>("GET", "/v1/nodes");
  printRows(rows, [["server_id", "Server ID"], ["hostname", "Hostname"], ["addr", "Address"], ["state", "State"], ["last_seen", "Last seen"], ["labels", "Labels"]], format(values.format));
};
