// `hostward ctl SUBCOMMAND`: picks the identity, then hands the rest to the
// subcommand's own file.
import { parse } from "./args.ts";
import type { CtlCommand } from "./context.ts";
import { usage } from "../platform/cli-error.ts";
import { clientFor, selectIdentity } from "../platform/identity-selection.ts";

// Each subcommand's file is loaded only when it runs: `ctl get` never evaluates what
// `ctl recordings` needs.
const COMMANDS: Record<string, () => Promise<CtlCommand>> = {
  status: async () => (await import("./status.ts")).status,
  tokens: async () => (await import("./tokens.ts")).tokens,
  nodes: async () => (await import("./nodes.ts")).nodes,
  users: async () => (await import("./users.ts")).users,
  create: async () => (await import("./resources.ts")).create,
  get: async () => (await import("./resources.ts")).get,
  rm: async () => (await import("./resources.ts")).rm,
  lock: async () => (await import("./lock.ts")).lock,
  unlock: async () => (await import("./lock.ts")).unlock,
  events: async () => (await import("./events.ts")).events,
  recordings: async () => (await import("./recordings.ts")).recordings,
  sessions: async () => (await import("./sessions.ts")).sessions,
  semaphores: async () => (await import("./semaphores.ts")).semaphores,
  "known-hosts": async () => (await import("./known-hosts.ts")).knownHosts,
};

export const CTL_USAGE = `usage: hostward ctl [--identity FILE] [--auth HOST:PORT] COMMAND
commands: ${Object.keys(COMMANDS).join(", ")}`;

export async function runCtl(argv: string[], env: Record<string, string | undefined>): Promise<void> {
  // Global flags come before the subcommand; everything after belongs to it.
  const at = argv.findIndex((a) => !a.startsWith("-") && !isFlagValue(argv, argv.indexOf(a)));
  const globals = at === -1 ? argv : argv.slice(0, at);
  const { values } = parse(globals, { identity: { type: "string" }, auth: { type: "string" } }, "ctl");
  const name = at === -1 ? undefined : argv[at];
  const load = name ? COMMANDS[name] : undefined;
  if (!load) throw usage(name ? `unknown ctl command "${name}"\n${CTL_USAGE}` : CTL_USAGE);
  const command = await load();
  let client: ReturnType<typeof clientFor> | undefined;
  await command(argv.slice(at + 1), { client: () => (client ??= clientFor(selectIdentity(values.identity, env), values.auth)) });
}

function isFlagValue(argv: string[], i: number): boolean {
  const prev = argv[i - 1];
  return prev === "--identity" || prev === "--auth";
}
