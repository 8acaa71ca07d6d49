// `hostward ctl lock …` and `ctl unlock NAME`: cut someone or something off now.
import { LOCK_TARGET_FIELDS } from "../core/resource-types.ts";
import { parseDuration } from "../core/duration.ts";
import { parse } from "./args.ts";
import type { CtlCommand } from "./context.ts";
import { usage } from "../platform/cli-error.ts";

const TARGET_FLAGS = Object.fromEntries(LOCK_TARGET_FIELDS.map(([, ext]) => [ext.replace(/_/g, "-"), { type: "string" as const }]));

export const lock: CtlCommand = async (args, ctx) => {
  const { values } = parse(args, { ...TARGET_FLAGS, message: { type: "string" }, ttl: { type: "string" }, expires: { type: "string" } }, "lock");
  const v = values as Record<string, string | undefined>;
  const target = Object.fromEntries(LOCK_TARGET_FIELDS.map(([, ext]) => [ext, v[ext.replace(/_/g, "-")]]).filter(([, x]) => x !== undefined));
  if (Object.keys(target).length === 0) {
    throw usage(`lock: give at least one target: ${LOCK_TARGET_FIELDS.map(([, e]) => "--" + e.replace(/_/g, "-")).join(", ")}`);
  }
  if (v.ttl && v.expires) throw usage("lock: --ttl and --expires conflict; give one");
  let expires = v.expires;
  if (v.ttl) {
    try {
      expires = new Date(Date.now() + parseDuration(v.ttl)).toISOString();
    } catch (e) {
      throw usage(`lock: --ttl: ${(e as Error).message}`);
    }
  }
  const res = await ctx.client().request<{ name: string }>("PUT", "/v1/resources", {
    kind: "lock", target, ...(v.message ? { message: v.message } : {}), ...(expires ? { expires } : {}),
  });
  console.log(`Created a lock with name "${res.name}".`);
};

export const unlock: CtlCommand = async (args, ctx) => {
  const { positionals } = parse(args, {}, "unlock");
  if (positionals.length !== 1) throw usage("usage: hostward ctl unlock NAME");
  await ctx.client().request("DELETE", `/v1/resources/lock/${encodeURIComponent(positionals[0]!)}`);
  console.log(`lock "${positionals[0]}" deleted.`);
};
