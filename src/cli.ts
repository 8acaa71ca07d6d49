#!/usr/bin/env bun
// hostward's single entry point: dispatches to the auth service, the agent, the
// operator CLI and the dev cluster, and turns errors into one line and an exit code.
// Each command's modules are loaded when it runs (dynamic import), so `version` or
// `ctl get` never evaluates the agent, the player's terminal emulator, the S3 client
// or the X.509 library; the compiled binary bundles them but defers their evaluation.
import { ValidationError } from "./core/validation-error.ts";
import { CliError, usage } from "./platform/cli-error.ts";
import { ApiError } from "./platform/api-error.ts";
import { stopOnSignal } from "./platform/stop-on-signal.ts";
import { gitCommit, VERSION } from "./platform/version.ts";
import { USAGES, usageFor, wantsHelp } from "./platform/command-usage.ts";

const USAGE = USAGES[""]!;

async function main(argv: string[]): Promise<void> {
  // --help at any depth prints that command's usage and succeeds, before any parsing.
  if (wantsHelp(argv)) return void console.log(usageFor(argv));
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "auth": return serve(rest, "auth");
    case "agent": return serve(rest, "agent");
    case "ctl": return (await import("./ctl/ctl.ts")).runCtl(rest, process.env);
    case "login": return (await import("./ctl/login.ts")).runLogin(rest, process.env);
    case "dev": return (await import("./dev/dev.ts")).runDev(rest);
    case "play": return (await import("./play/play-command.ts")).runPlay(rest, process.env);
    case "web": return (await import("./ctl/web-signin.ts")).runWeb(rest, process.env);
    // Hidden: the -L Unix-socket relay the agent runs as a login user (unix-relay.ts).
    case "internal":
      if (rest[0] === "unix-connect") return (await import("./agent/forwarding/unix-relay-main.ts")).runUnixConnect(rest.slice(1));
      throw usage(`unknown command "${cmd}"\n${USAGE}`);
    case "version":
    case "--version":
      return void console.log(`hostward ${VERSION} (commit ${gitCommit()}, bun ${Bun.version})`);
    case undefined:
      return void console.log(USAGE);
    default:
      throw usage(`unknown command "${cmd}"\n${USAGE}`);
  }
}

/** `hostward auth migrate --from sqlite:///… --to postgres://… [--force]` */
async function migrate(args: string[]): Promise<void> {
  const { parseArgs } = await import("node:util");
  let values: { from?: string; to?: string; force?: boolean };
  try {
    ({ values } = parseArgs({ args, options: { from: { type: "string" }, to: { type: "string" }, force: { type: "boolean" } }, strict: true }));
  } catch (e) {
    throw usage((e as Error).message);
  }
  if (!values.from || !values.to) throw usage(USAGES["auth migrate"]!);
  const counts = await (await import("./auth/migrate-store.ts")).migrateStore(values.from, values.to, values.force ?? false);
  console.log(`copied ${Object.entries(counts).map(([t, n]) => `${n} ${t}`).join(", ")}`);
}

async function serve(args: string[], which: "auth" | "agent"): Promise<void> {
  const [sub, ...rest] = args;
  if (which === "auth" && sub === "migrate") return migrate(rest);
  if (sub !== "start") throw usage(`usage: hostward ${which} start [--config FILE]`);
  const { values } = await parseFlags(rest);
  const [{ loadConfig }, { parseAgentConfig, parseAuthConfig }] = await Promise.all([
    import("./platform/config-file.ts"), import("./core/config.ts"),
  ]);
  const running = which === "auth"
    ? await (await import("./auth/start.ts")).startAuth(loadConfig(values.config, "/etc/hostward/auth.toml", parseAuthConfig), undefined, [(await import("./web/console.ts")).webConsole()])
    : await (await import("./agent/start.ts")).startAgent(loadConfig(values.config, "/etc/hostward/agent.toml", parseAgentConfig));
  stopOnSignal(() => running.stop());
}

async function parseFlags(args: string[]) {
  const { parseArgs } = await import("node:util");
  try {
    return parseArgs({ args, options: { config: { type: "string", short: "c" } }, strict: true });
  } catch (e) {
    throw usage((e as Error).message);
  }
}

function exitWith(e: unknown): never {
  if (e instanceof ValidationError) {
    console.error(`hostward: ${e.message}`);
    process.exit(2);
  }
  if (e instanceof CliError) {
    console.error(e.exitCode === 2 && e.message.startsWith("usage") ? e.message : `hostward: ${e.message}`);
    process.exit(e.exitCode);
  }
  if (e instanceof ApiError) {
    console.error(`hostward: ${e.message}`);
    process.exit(1);
  }
  console.error(`hostward: ${(e as Error)?.message ?? String(e)}`);
  if (process.env.HOSTWARD_DEBUG) console.error((e as Error)?.stack);
  process.exit(1);
}

main(process.argv.slice(2)).catch(exitWith);
