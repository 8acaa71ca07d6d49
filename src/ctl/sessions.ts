// `hostward ctl sessions ls`: the session inventory, newest first.
import { parse, format, FORMAT_FLAG } from "./args.ts";
import type { CtlCommand } from "./context.ts";
import { usage } from "../platform/cli-error.ts";
import { printRows } from "./table.ts";

const USAGE = "usage: hostward ctl sessions ls [--state active|completed|rejected|lost] [--user U] [--node UUID] [--login L] [--since 1h] [--limit N] [--format json]";
const FILTERS = ["state", "user", "node", "login", "since", "limit"] as const;

export const sessions: CtlCommand = async (args, ctx) => {
  const [sub, ...rest] = args;
  if (sub !== "ls") throw usage(USAGE);
  const { values } = parse(rest, { ...Object.fromEntries(FILTERS.map((f) => [f, { type: "string" as const }])), ...FORMAT_FLAG }, "sessions ls");
  const v = values as Record<string, string | undefined>;
  const q = new URLSearchParams();
  for (const k of FILTERS) if (v[k]) q.set(k, v[k]!);
  const rows = await ctx.client().request<Record<string, unknown>[]>("GET", `/v1/sessions?${q}`);
  printRows(rows, [
    ["id", "ID"], ["state", "State"], ["user", "User"], ["login", "Login"], ["node", "Node"], ["kind", "Kind"],
    ["start", "Start"], ["end", "End"], ["duration", "Duration"], ["recorded", "Recorded"], ["recording", "Recording"], ["reason", "Reason"],
  ], format(v.format));
};
