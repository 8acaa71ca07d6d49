// `hostward ctl events ls`: the audit log, newest first.
import { parse, format, FORMAT_FLAG } from "./args.ts";
import type { CtlCommand } from "./context.ts";
import { usage } from "./ctl-error.ts";
import { printRows } from "./table.ts";

export const events: CtlCommand = async (args, ctx) => {
  const [sub, ...rest] = args;
  if (sub !== "ls") throw usage("usage: hostward ctl events ls [--type T] [--user U] [--since 1h] [--limit N] [--format json]");
  const { values } = parse(rest, { type: { type: "string" }, user: { type: "string" }, since: { type: "string" }, limit: { type: "string" }, ...FORMAT_FLAG }, "events ls");
  const q = new URLSearchParams();
  for (const k of ["type", "user", "since", "limit"] as const) if (values[k]) q.set(k, values[k]!);
  const rows = await ctx.client().request<Record<string, unknown>[]>("GET", `/v1/events?${q}`);
  printRows(rows, [["time", "Time"], ["event", "Event"], ["code", "Code"], ["user", "User"], ["server_id", "Server"], ["reason", "Reason"]], format(values.format));
};
