// Every command's usage text, keyed by its words ("ctl users sign"), so `--help` at any
// depth prints it without loading the command's modules (cli.ts imports them lazily).
const GLOBAL_CTL = "[--identity FILE] [--auth HOST:PORT]";
const LOCK_TARGETS = "--user U | --role R | --login L | --server-id UUID | --device ID | --mfa-device ID | --access-request ID | --windows-desktop NAME";

export const USAGES: Readonly<Record<string, string>> = {
  "": `usage: hostward COMMAND
  auth start [--config FILE]     run the auth service (control plane)
  auth migrate --from sqlite:///… --to postgres://…   copy a cluster into PostgreSQL
  agent start [--config FILE]    run the node agent
  ctl ...                        operator commands (hostward ctl --help for the list)
  login --auth H:P --ca-pin PIN  act as yourself in ctl, with your SSH certificate
  web [--identity FILE] [--no-browser]   a one-time sign-in link to the web console (opens $BROWSER)
  play SESSION|FILE [--format pty|json|text|asciicast]   play back or export a recording
  dev [--dir .hostward]          a whole cluster on this machine for a first look
  version                        print version, commit and Bun version
Every command and subcommand takes --help.`,
  "auth": "usage: hostward auth start [--config FILE]   (default /etc/hostward/auth.toml)",
  "auth migrate": "usage: hostward auth migrate --from sqlite:///PATH/auth.db --to postgres://USER@HOST:PORT/DB [--force]\n  copies a SQLite cluster into PostgreSQL, CAs included; refuses a target that holds a cluster unless --force",
  "auth start": "usage: hostward auth start [--config FILE]\n  runs the auth service; FILE defaults to /etc/hostward/auth.toml",
  "agent": "usage: hostward agent start [--config FILE]   (default /etc/hostward/agent.toml)",
  "agent start": "usage: hostward agent start [--config FILE]\n  runs the node agent; FILE defaults to /etc/hostward/agent.toml",
  "login": "usage: hostward login --auth HOST:PORT --ca-pin sha256:… [-i KEY]\n  checks the auth service against the pin and saves ~/.hostward/profile.toml naming KEY (default ~/.ssh/id_ed25519) and KEY-cert.pub",
  "play": "usage: hostward play SESSION|FILE [--speed 2] [--from 1m30s] [--skip-idle 2s] [--format pty|json|text|asciicast] [--identity FILE] [--auth HOST:PORT]\n  keys while playing: space pause, ←/→ seek 5 s, +/- speed, q quit",
  "dev": "usage: hostward dev [--dir .hostward] [--auth-port 3025] [--ssh-port 3022] [--diag-port N] [--agent-diag-port N] [--log-level info]",
  "version": "usage: hostward version",
  "web": "usage: hostward web [--identity FILE] [--auth HOST:PORT] [--no-browser]\n  prints a one-time sign-in link to the web console and opens $BROWSER",
  "ctl": `usage: hostward ctl ${GLOBAL_CTL} COMMAND
commands: status, tokens, nodes, users, create, get, rm, lock, unlock, events, recordings, sessions, semaphores, known-hosts
hostward ctl COMMAND --help for each`,
  "ctl status": "usage: hostward ctl status [--format json]\n  the cluster, its CA pin, and who you are",
  "ctl tokens": "usage: hostward ctl tokens add [--ttl 30m] [--reusable] [--format json] | tokens ls [--format json]",
  "ctl tokens add": "usage: hostward ctl tokens add [--ttl 30m] [--reusable] [--format json]",
  "ctl tokens ls": "usage: hostward ctl tokens ls [--format json]",
  "ctl nodes": "usage: hostward ctl nodes ls [--format json]",
  "ctl nodes ls": "usage: hostward ctl nodes ls [--format json]",
  "ctl users": "usage: hostward ctl users add NAME --roles a,b | users ls [--format json] | users sign NAME --pubkey FILE [--ttl 8h] [--out FILE]",
  "ctl users add": "usage: hostward ctl users add NAME --roles a,b",
  "ctl users ls": "usage: hostward ctl users ls [--format json]",
  "ctl users sign": "usage: hostward ctl users sign NAME --pubkey FILE [--ttl 8h] [--out FILE]",
  "ctl create": "usage: hostward ctl create -f FILE [-f FILE...]",
  "ctl get": "usage: hostward ctl get KIND [NAME] [--format toml|json]",
  "ctl rm": "usage: hostward ctl rm KIND/NAME (e.g. lock/3f2a…, role/limited-ssh)",
  "ctl lock": `usage: hostward ctl lock TARGET... [--message M] [--ttl 10h | --expires RFC3339]\n  TARGET: ${LOCK_TARGETS} (several must all match)`,
  "ctl unlock": "usage: hostward ctl unlock NAME",
  "ctl events": "usage: hostward ctl events ls [--type T] [--user U] [--since 1h] [--limit N] [--before SEQ] [--format json]",
  "ctl events ls": "usage: hostward ctl events ls [--type T] [--user U] [--since 1h] [--limit N] [--before SEQ] [--format json]",
  "ctl recordings": "usage: hostward ctl recordings ls [--user U] [--node UUID] [--state STATE] [--limit N] [--format json]\n       hostward ctl recordings download SESSION [--out FILE]\n       hostward ctl recordings rm SESSION",
  "ctl recordings ls": "usage: hostward ctl recordings ls [--user U] [--node UUID] [--state complete|interrupted|corrupt|uploading] [--limit N] [--format json]",
  "ctl recordings download": "usage: hostward ctl recordings download SESSION [--out FILE]",
  "ctl recordings rm": "usage: hostward ctl recordings rm SESSION",
  "ctl sessions": "usage: hostward ctl sessions ls [--state active|completed|rejected|lost] [--user U] [--node UUID] [--login L] [--since 1h] [--limit N] [--format json]\n       hostward ctl sessions terminate SESSION [--message M]",
  "ctl sessions terminate": "usage: hostward ctl sessions terminate SESSION [--message M]\n  ends one live session; its user sees \"session terminated by YOU: M\"",
  "ctl sessions ls": "usage: hostward ctl sessions ls [--state active|completed|rejected|lost] [--user U] [--node UUID] [--login L] [--since 1h] [--limit N] [--format json]",
  "ctl semaphores": "usage: hostward ctl semaphores ls [--key connection/U] [--format json] | semaphores rm KEY [HOLDER]",
  "ctl semaphores ls": "usage: hostward ctl semaphores ls [--key connection/U] [--format json]",
  "ctl semaphores rm": "usage: hostward ctl semaphores rm KEY [HOLDER]",
  "ctl known-hosts": "usage: hostward ctl known-hosts [--format openssh|known_hosts|putty]",
};

const HELP_FLAGS = new Set(["--help", "-h"]);
/** Flags before a ctl subcommand that take a value (their value is not a command word). */
const VALUE_FLAGS = new Set(["--identity", "--auth", "--config", "-c"]);

/** Whether argv asks for help (`--help`/`-h` anywhere before a `--`, or `help`). */
export function wantsHelp(argv: string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).some((a) => HELP_FLAGS.has(a)) || argv[0] === "help";
}

/** The usage of the deepest command that argv's words name, or the top-level one. */
export function usageFor(argv: string[]): string {
  const words: string[] = [];
  for (let i = argv[0] === "help" ? 1 : 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") break;
    if (VALUE_FLAGS.has(a)) i++;
    else if (!a.startsWith("-")) words.push(a);
  }
  for (let n = words.length; n > 0; n--) {
    const text = USAGES[words.slice(0, n).join(" ")];
    if (text) return text;
  }
  return USAGES[""]!;
}
