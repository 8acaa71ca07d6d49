#!/usr/bin/env bun
// hostward's single entry point: dispatches to the auth service, the agent, the
// operator CLI and the dev cluster, and turns errors into one line and an exit code.
import { parseArgs } from "node:util";
import { parseAgentConfig, parseAuthConfig } from "./core/config.ts";
import { ValidationError } from "./core/validation-error.ts";
import { startAgent } from "./agent/start.ts";
import { startAuth } from "./auth/start.ts";
import { runCtl } from "./ctl/ctl.ts";
import { runLogin } from "./ctl/login.ts";
import { CliError, usage } from "./platform/cli-error.ts";
import { runDev } from "./dev/dev.ts";
import { runPlay } from "./recording/play-command.ts";
import { runWeb } from "./ctl/web-signin.ts";
import { webConsole } from "./web/console.ts";
import { ApiError } from "./platform/api-client.ts";
import { loadConfig } from "./platform/config-file.ts";
import { stopOnSignal } from "./platform/stop-on-signal.ts";
import { gitCommit, VERSION } from "./platform/version.ts";

const USAGE = `usage: hostward COMMAND
  auth start [--config FILE]     run the auth service (control plane)
  agent start [--config FILE]    run the node agent
  ctl ...                        operator commands (hostward ctl for the list)
  login --auth H:P --ca-pin PIN  act as yourself in ctl, with your SSH certificate
  web [--identity FILE] [--no-browser]   a one-time sign-in link to the web console (opened in $BROWSER)
  play SESSION|FILE [--format pty|json|text|asciicast]   play back or export a recording
  dev [--dir .hostward]          a whole cluster on this machine for a first look
  version                        print version, commit and Bun version`;

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "auth": return serve(rest, "auth");
    case "agent": return serve(rest, "agent");
    case "ctl": return runCtl(rest, process.env);
    case "login": return runLogin(rest, process.env);
    case "dev": return runDev(rest);
    case "play": return runPlay(rest, process.env);
    case "web": return runWeb(rest, process.env);
    case "version":
    case "--version":
      return void console.log(`hostward ${VERSION} (commit ${gitCommit()}, bun ${Bun.version})`);
    case undefined:
    case "help":
    case "--help":
      return void console.log(USAGE);
    default:
      throw usage(`unknown command "${cmd}"\n${USAGE}`);
  }
}

async function serve(args: string[], which: "auth" | "agent"): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== "start") throw usage(`usage: hostward ${which} start [--config FILE]`);
  const { values } = parseFlags(rest);
  const running = which === "auth"
    ? await startAuth(loadConfig(values.config, "/etc/hostward/auth.toml", parseAuthConfig), undefined, [webConsole()])
    : await startAgent(loadConfig(values.config, "/etc/hostward/agent.toml", parseAgentConfig));
  stopOnSignal(() => running.stop());
}

function parseFlags(args: string[]) {
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
