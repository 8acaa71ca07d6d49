// `hostward ctl events ls`: the audit log, newest first, a page at a time
// (`--before SEQ` continues after the last row of the previous page).
import { parse, format, FORMAT_FLAG } from "./args.ts";
import type { CtlCommand } from "./context.ts";
import { usage } from "../platform/cli-error.ts";
import { printRows } from "./table.ts";

const FILTERS = ["type", "user", "since", "limit", "before"] as const;

export const events: CtlCommand = async (args, ctx) => {
  const [sub, ...rest] = args;
  if (sub !== "ls") throw usage("usage: hostward ctl events ls [--type T] [--user U] [--since 1h] [--limit N] [--before SEQ] [--format json]");
  const { values } = parse(rest, { ...Object.fromEntries(FILTERS.map((f) => [f, { type: "string" as const }])), ...FORMAT_FLAG }, "events ls");
  const v = values as Record<string, string | undefined>;
  const q = new URLSearchParams();
  for (const k of FILTERS) if (v[k]) q.set(k, v[k]!);
  const rows = await ctx.client().request<(Record<string, unknown> & { seq: number })[]>("GET", `/v1/events?${q}`);
  const fmt = format(v.format);
  printRows(rows, [["seq", "Seq"], ["time", "Time"], ["event", "Event"], ["code", "Code"], ["user", "User"], ["server_id", "Server"], ["reason", "Reason"]], fmt);
  const limit = Number(v.limit ?? "100");
  if (fmt === "table" && rows.length > 0 && rows.length >= limit) console.error(`more: --before ${rows.at(-1)!.seq}`);
};
