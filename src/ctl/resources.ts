// `hostward ctl create -f FILE`, `get KIND [NAME]`, `rm KIND/NAME`: the TOML
// resources. Files are validated here first so errors name the file and key.
import { readFileSync } from "node:fs";
import type TOML from "@iarna/toml";
import { ValidationError } from "../core/validation-error.ts";
import { parse, format, FORMAT_FLAG } from "./args.ts";
import type { CtlCommand } from "./context.ts";
import { CliError, usage } from "../platform/cli-error.ts";
import { printRows } from "./table.ts";

const COLUMNS: Record<string, [string, string][]> = {
  role: [["name", "Role"], ["allow_logins", "Logins"], ["options", "Options"]],
  user: [["name", "User"], ["roles", "Roles"]],
  lock: [["name", "ID"], ["target", "Target"], ["message", "Message"], ["expires", "Expires"], ["created_by", "Created by"]],
  cluster_config: [["session_recording", "Recording"], ["locking_mode", "Locking mode"], ["session_control_timeout", "Session control timeout"], ["lock_max_staleness", "Lock max staleness"]],
};

export const create: CtlCommand = async (args, ctx) => {
  const { values } = parse(args, { file: { type: "string", short: "f", multiple: true } }, "create");
  if (!values.file?.length) throw usage("usage: hostward ctl create -f FILE [-f FILE...]");
  const all = (await Promise.all(values.file.map((file) => readResources(file)))).flat();
  const client = ctx.client();
  for (const r of all) {
    const saved = await client.request<{ kind: string; name: string }>("PUT", "/v1/resources", r);
    console.log(`${saved.kind} "${saved.name}" saved.`);
  }
};

// The resource parsers and @iarna/toml load when a command needs them: `ctl get` prints a table.
async function readResources(file: string): Promise<Record<string, unknown>[]> {
  const { parseResourceText, toExternal } = await import("../core/resources.ts");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new CliError(`${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`, 2);
  }
  try {
    return parseResourceText(text, file, { now: new Date() }).map(toExternal);
  } catch (e) {
    if (e instanceof ValidationError) throw new CliError(e.message, 2);
    throw e;
  }
}

export const get: CtlCommand = async (args, ctx) => {
  const { values, positionals } = parse(args, FORMAT_FLAG, "get");
  const [kindArg, name] = positionals;
  if (!kindArg) throw usage("usage: hostward ctl get KIND [NAME] [--format toml|json]");
  const kind = kindArg.replace(/s$/, "");
  const fmt = format(values.format, ["table", "json", "toml"]);
  const client = ctx.client();
  const path = `/v1/resources/${encodeURIComponent(kind)}${name ? "/" + encodeURIComponent(name) : ""}`;
  const res = await client.request<Record<string, unknown> | Record<string, unknown>[]>("GET", path);
  const list = Array.isArray(res) ? res : [res];
  if (fmt === "toml") {
    const { stringify } = (await import("@iarna/toml")).default;
    return void console.log(list.map((r) => stringify(r as TOML.JsonMap)).join("\n"));
  }
  printRows(list.map(flatten), COLUMNS[kind] ?? [["name", "Name"]], fmt, res);
};

export const rm: CtlCommand = async (args, ctx) => {
  const { positionals } = parse(args, {}, "rm");
  const [ref] = positionals;
  const m = ref?.match(/^([a-z_]+)\/(.+)$/);
  if (!m) throw usage("usage: hostward ctl rm KIND/NAME (e.g. lock/3f2a…, role/limited-ssh)");
  await ctx.client().request("DELETE", `/v1/resources/${encodeURIComponent(m[1]!)}/${encodeURIComponent(m[2]!)}`);
  console.log(`${m[1]} "${m[2]}" deleted.`);
};

function flatten(r: Record<string, unknown>): Record<string, unknown> {
  const allow = r.allow as { logins?: string[] } | undefined;
  return { ...r, allow_logins: allow?.logins };
}
