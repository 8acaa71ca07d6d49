// `hostward ctl sessions ls`: the session inventory, newest first; `sessions terminate`
// ends one live session through whichever auth replica holds its node's feed.
import { parse, format, FORMAT_FLAG } from "./args.ts";
import type { CtlCommand } from "./context.ts";
import { usage } from "../platform/cli-error.ts";
import { printRows } from "./table.ts";

const USAGE = "usage: hostward ctl sessions ls [--state active|completed|rejected|lost] [--user U] [--node UUID] [--login L] [--since 1h] [--limit N] [--format json] | sessions terminate SESSION [--message M]";
const FILTERS = ["state", "user", "node", "login", "since", "limit"] as const;

export const sessions: CtlCommand = async (args, ctx) => {
  const [sub, ...rest] = args;
  if (sub === "terminate") return terminate(rest, ctx);
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

const terminate: CtlCommand = async (args, ctx) => {
  const { values, positionals } = parse(args, { message: { type: "string" } }, "sessions terminate");
  const [id] = positionals;
  if (!id || positionals.length > 1) throw usage(USAGE);
  const res = await ctx.client().request<{ terminating: string; node: string; sent_via: string }>(
    "POST", `/v1/sessions/${encodeURIComponent(id)}/terminate`, values.message ? { message: values.message } : {});
  console.log(`session ${res.terminating} on node ${res.node}: terminate sent (by ${res.sent_via}).`);
};
