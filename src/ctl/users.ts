// `hostward ctl users add|ls|sign`: people and the short-lived OpenSSH certificates
// they log in with.
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../platform/fs-atomic.ts";
import { parse, format, FORMAT_FLAG } from "./args.ts";
import type { CtlCommand } from "./context.ts";
import { CliError, usage } from "../platform/cli-error.ts";
import { printRows } from "./table.ts";

export const users: CtlCommand = async (args, ctx) => {
  const [sub, ...rest] = args;
  if (sub === "add") return add(rest, ctx);
  if (sub === "ls") return list(rest, ctx);
  if (sub === "sign") return sign(rest, ctx);
  throw usage("usage: hostward ctl users add NAME --roles a,b | users ls | users sign NAME --pubkey FILE [--ttl 8h] [--out FILE]");
};

const add: CtlCommand = async (args, ctx) => {
  const { values, positionals } = parse(args, { roles: { type: "string" } }, "users add");
  const [name] = positionals;
  if (!name || !values.roles) throw usage("usage: hostward ctl users add NAME --roles a,b");
  const roles = values.roles.split(",").map((r) => r.trim()).filter(Boolean);
  await ctx.client().request("PUT", "/v1/resources", { kind: "user", name, roles });
  console.log(`User "${name}" saved with roles ${roles.join(", ")}.`);
};

const list: CtlCommand = async (args, ctx) => {
  const { values } = parse(args, FORMAT_FLAG, "users ls");
  const rows = await ctx.client().request<Record<string, unknown>[]>("GET", "/v1/resources/user");
  printRows(rows, [["name", "User"], ["roles", "Roles"]], format(values.format));
};

const sign: CtlCommand = async (args, ctx) => {
  const { values, positionals } = parse(args, { pubkey: { type: "string" }, ttl: { type: "string" }, out: { type: "string" } }, "users sign");
  const [name] = positionals;
  if (!name || !values.pubkey) throw usage("usage: hostward ctl users sign NAME --pubkey FILE [--ttl 8h] [--out FILE]");
  let publicKey: string;
  try {
    publicKey = readFileSync(values.pubkey, "utf8").trim();
  } catch (e) {
    throw new CliError(`${values.pubkey}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`, 2);
  }
  const res = await ctx.client().request<{ cert: string; valid_before: string; principals: string[] }>(
    "POST", `/v1/users/${encodeURIComponent(name)}/certs`, { public_key: publicKey, ttl: values.ttl ?? "8h" });
  if (!values.out) return void console.log(res.cert);
  writeFileAtomic(values.out, res.cert + "\n", 0o644);
  console.error(`Wrote ${values.out}: valid until ${res.valid_before}, logins ${res.principals.join(", ") || "(none)"}.`);
};
