// `hostward ctl recordings ls|download|rm`: session recordings in storage. Listing and
// downloading need list/read on "recording" (admin, auditor); rm needs delete (admin)
// and is audited.
import { writeFileAtomic } from "../platform/fs-atomic.ts";
import { downloadRecording } from "../platform/recording-download.ts";
import { badSessionIdMessage, isSessionId } from "../core/session-id.ts";
import { format, FORMAT_FLAG, parse } from "./args.ts";
import type { CtlCommand } from "./context.ts";
import { CliError, usage } from "../platform/cli-error.ts";
import { printRows } from "./table.ts";

const USAGE = "usage: hostward ctl recordings ls [--user U] [--node UUID] [--state open|complete|corrupt] [--limit N] [--format json]\n" +
  "       hostward ctl recordings download SESSION [--out FILE]\n       hostward ctl recordings rm SESSION";

export const recordings: CtlCommand = async (args, ctx) => {
  const [sub, ...rest] = args;
  if (sub === "ls") return list(rest, ctx);
  if (sub === "download") return download(rest, ctx);
  if (sub === "rm") return remove(rest, ctx);
  throw usage(USAGE);
};

const list: CtlCommand = async (args, ctx) => {
  const { values } = parse(args, { user: { type: "string" }, node: { type: "string" }, state: { type: "string" }, limit: { type: "string" }, ...FORMAT_FLAG }, "recordings ls");
  const q = new URLSearchParams();
  for (const k of ["user", "node", "state", "limit"] as const) if (values[k]) q.set(k, values[k]!);
  const rows = await ctx.client().request<Record<string, unknown>[]>("GET", `/v1/recordings?${q}`);
  const shown = rows.map((r) => ({ ...r, duration: seconds(r.duration_ms) }));
  printRows(shown, [["session_id", "Session"], ["user", "User"], ["login", "Login"], ["kind", "Kind"], ["started", "Started"], ["duration", "Duration"],
    ["state", "Recording"], ["reason", "Reason"], ["bytes", "Bytes"], ["server_id", "Node"]], format(values.format), rows);
};

const download: CtlCommand = async (args, ctx) => {
  const { values, positionals } = parse(args, { out: { type: "string", short: "o" } }, "recordings download");
  const sid = sessionArg(positionals);
  const d = await downloadRecording(ctx.client(), sid);
  const out = values.out ?? `${sid}.ndjson.gz`;
  writeFileAtomic(out, d.bytes, 0o600);
  if (d.cut) throw new CliError(`${d.cut}; ${out} holds what arrived (hostward play ${out} shows where it ends)`);
  console.error(`Wrote ${out}: ${d.bytes.length} bytes, recording ${d.state}.`);
};

const remove: CtlCommand = async (args, ctx) => {
  const { positionals } = parse(args, {}, "recordings rm");
  const sid = sessionArg(positionals);
  await ctx.client().request("DELETE", `/v1/recordings/${sid}`);
  console.log(`recording of session ${sid} deleted.`);
};

function sessionArg(positionals: string[]): string {
  if (positionals.length !== 1) throw usage(USAGE);
  const sid = positionals[0]!;
  if (!isSessionId(sid)) throw usage(badSessionIdMessage(sid));
  return sid;
}

function seconds(ms: unknown): string {
  return typeof ms === "number" ? `${(ms / 1000).toFixed(1)}s` : "";
}
