// `hostward ctl SUBCOMMAND`: picks the identity, then hands the rest to the
// subcommand's own file.
import { parse } from "./args.ts";
import type { CtlCommand } from "./context.ts";
import { usage } from "../platform/cli-error.ts";
import { events } from "./events.ts";
import { clientFor, selectIdentity } from "../platform/identity-selection.ts";
import { knownHosts } from "./known-hosts.ts";
import { lock, unlock } from "./lock.ts";
import { nodes } from "./nodes.ts";
import { recordings } from "./recordings.ts";
import { create, get, rm } from "./resources.ts";
import { semaphores } from "./semaphores.ts";
import { sessions } from "./sessions.ts";
import { status } from "./status.ts";
import { tokens } from "./tokens.ts";
import { users } from "./users.ts";

const COMMANDS: Record<string, CtlCommand> = {
  status, tokens, nodes, users, create, get, rm, lock, unlock, events, recordings, sessions, semaphores, "known-hosts": knownHosts,
};

export const CTL_USAGE = `usage: hostward ctl [--identity FILE] [--auth HOST:PORT] COMMAND
commands: ${Object.keys(COMMANDS).join(", ")}`;

export async function runCtl(argv: string[], env: Record<string, string | undefined>): Promise<void> {
  // Global flags come before the subcommand; everything after belongs to it.
  const at = argv.findIndex((a) => !a.startsWith("-") && !isFlagValue(argv, argv.indexOf(a)));
  const globals = at === -1 ? argv : argv.slice(0, at);
  const { values } = parse(globals, { identity: { type: "string" }, auth: { type: "string" } }, "ctl");
  const name = at === -1 ? undefined : argv[at];
  const command = name ? COMMANDS[name] : undefined;
  if (!command) throw usage(name ? `unknown ctl command "${name}"\n${CTL_USAGE}` : CTL_USAGE);
  let client: ReturnType<typeof clientFor> | undefined;
  await command(argv.slice(at + 1), { client: () => (client ??= clientFor(selectIdentity(values.identity, env), values.auth)) });
}

function isFlagValue(argv: string[], i: number): boolean {
  const prev = argv[i - 1];
  return prev === "--identity" || prev === "--auth";
}
