// Builds the argv and environment of a login: the user's shell (or command, or the
// sftp server) run as that OS user with their groups, and for a PTY as the
// session leader owning the terminal (setsid -c + setpriv).
import { existsSync } from "node:fs";
import type { OsUser } from "./os-user.ts";

export interface LoginSpec {
  user: OsUser;
  /** Shell (undefined), a command, or the sftp subsystem. */
  run: { kind: "shell" } | { kind: "exec"; command: string } | { kind: "sftp" };
  pty?: { term: string };
  /** Variables the client sent that we accept (LANG, LC_*). */
  clientEnv: Record<string, string>;
  /** What the client asked to run when the certificate's force-command replaced it. */
  originalCommand?: string;
  /** "client_ip client_port server_ip server_port" */
  sshConnection: string;
  /** True when the agent runs as root and must drop to the user. */
  switchUser: boolean;
  /** A forwarded agent's socket (-A): SSH_AUTH_SOCK. */
  agentSocket?: string;
}

const ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const USER_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games";
const SFTP_SERVERS = ["/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server", "/usr/lib/ssh/sftp-server", "/usr/libexec/sftp-server"];
const ACCEPTED_ENV = /^(LANG|LC_[A-Z]+|TZ|COLORTERM)$/;

// Runs as root before dropping privileges: give the PTY slave to the user as sshd does.
const CHOWN_TTY = 't=$(tty) && chown "$1" "$t" && chmod 0620 "$t"; chgrp tty "$t" 2>/dev/null; shift; exec "$@"';

export function acceptsEnv(name: string): boolean {
  return ACCEPTED_ENV.test(name);
}

export function sftpServerPath(): string | undefined {
  return SFTP_SERVERS.find((p) => existsSync(p));
}

export function loginArgv(spec: LoginSpec): string[] {
  const target = targetArgv(spec);
  const dropped = spec.switchUser ? asUserArgv(spec.user, target) : target;
  // Its own session and process group either way, so that ending the session reaches
  // everything it started (and nothing the user detached with setsid).
  if (!spec.pty) return ["setsid", ...dropped];
  const chown = spec.switchUser ? ["sh", "-c", CHOWN_TTY, "hostward-login", String(spec.user.uid)] : [];
  return ["setsid", "-c", ...chown, ...dropped];
}

/** argv run as the user: their uid and gid and all their groups (initgroups), as sshd does. */
export function asUserArgv(user: OsUser, argv: string[]): string[] {
  return ["setpriv", `--reuid=${user.uid}`, `--regid=${user.gid}`, "--init-groups", "--", ...argv];
}

function targetArgv(spec: LoginSpec): string[] {
  const shell = spec.user.shell;
  switch (spec.run.kind) {
    case "shell": return [shell, "-l"];
    case "exec": return [shell, "-c", spec.run.command];
    case "sftp": return [sftpServerPath() ?? "sftp-server"];
  }
}

export function loginEnv(spec: LoginSpec): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.clientEnv)) if (acceptsEnv(k)) env[k] = v;
  Object.assign(env, {
    HOME: spec.user.home,
    USER: spec.user.name,
    LOGNAME: spec.user.name,
    SHELL: spec.user.shell,
    PATH: spec.user.uid === 0 ? ROOT_PATH : USER_PATH,
    MAIL: `/var/mail/${spec.user.name}`,
    SSH_CONNECTION: spec.sshConnection,
    SSH_CLIENT: spec.sshConnection.split(" ").slice(0, 2).join(" ") + " " + spec.sshConnection.split(" ")[3],
  });
  if (spec.originalCommand !== undefined) env.SSH_ORIGINAL_COMMAND = spec.originalCommand;
  if (spec.pty) env.TERM = spec.pty.term || "xterm";
  if (spec.agentSocket) env.SSH_AUTH_SOCK = spec.agentSocket;
  return env;
}

export function loginCwd(user: OsUser): string {
  return existsSync(user.home) ? user.home : "/";
}
