// `hostward ctl semaphores ls|rm`: the max_connections leases and who holds them;
// rm clears a lease (all of a key's when no holder is given), e.g. one left by a dead node.
import { parse, format, FORMAT_FLAG } from "./args.ts";
import type { CtlCommand } from "./context.ts";
import { usage } from "../platform/cli-error.ts";
import { printRows } from "./table.ts";

const USAGE = "usage: hostward ctl semaphores ls [--key connection/U] [--format json] | semaphores rm KEY [HOLDER]";

export const semaphores: CtlCommand = async (args, ctx) => {
  const [sub, ...rest] = args;
  if (sub === "ls") return list(rest, ctx);
  if (sub === "rm") return remove(rest, ctx);
  throw usage(USAGE);
};

const list: CtlCommand = async (args, ctx) => {
  const { values } = parse(args, { key: { type: "string" }, ...FORMAT_FLAG }, "semaphores ls");
  const q = values.key ? `?${new URLSearchParams({ key: values.key })}` : "";
  const rows = await ctx.client().request<Record<string, unknown>[]>("GET", `/v1/semaphores${q}`);
  printRows(rows, [["key", "Key"], ["holder", "Holder (server/connection)"], ["acquired", "Acquired"], ["expires", "Expires"]], format(values.format));
};

const remove: CtlCommand = async (args, ctx) => {
  const { positionals } = parse(args, {}, "semaphores rm");
  const [key, holder] = positionals;
  if (!key || positionals.length > 2) throw usage(USAGE);
  const q = new URLSearchParams({ key, ...(holder ? { holder } : {}) });
  const res = await ctx.client().request<{ removed: { key: string; holder: string }[] }>("DELETE", `/v1/semaphores?${q}`);
  for (const l of res.removed) console.log(`lease on "${l.key}" held by "${l.holder}" removed.`);
};
