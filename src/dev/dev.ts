// `hostward dev`: the auth service and one agent in this process on loopback, data
// under ./.hostward/, a certificate for the current OS user and the ssh line to use it.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { currentOsUser } from "../agent/os-user.ts";
import { startAgent } from "../agent/start.ts";
import { startAuth } from "../auth/start.ts";
import { parseAgentConfig, parseAuthConfig } from "../core/config.ts";
import { ms } from "../core/duration.ts";
import { encodeOpenSshPrivateKey } from "../core/openssh-private-key.ts";
import { formatAuthorizedKey, generateEd25519 } from "../core/ssh-key.ts";
import { usage } from "../platform/cli-error.ts";
import { writeFileAtomic } from "../platform/fs-atomic.ts";
import { createLogger } from "../platform/logger.ts";
import { stopOnSignal } from "../platform/stop-on-signal.ts";
import { devSshConfig } from "./ssh-config.ts";
import { webConsole } from "../web/console.ts";

const DEV_ROLE = "dev-login";
const CERT_TTL = ms(12 * 3600 * 1000);

export async function runDev(args: string[]): Promise<void> {
  const opts = devOptions(args);
  const dir = resolve(opts.dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const log = createLogger(opts.logLevel);
  const auth = await startAuth(parseAuthConfig({
    data_dir: join(dir, "auth"), listen: `127.0.0.1:${opts.authPort}`, diag_addr: `127.0.0.1:${opts.diagPort}`, log_level: opts.logLevel,
    web: { listen: `127.0.0.1:${opts.webPort}` },
  }, "dev"), log.child({ component: "auth" }), [webConsole()]);
  copyFileSync(auth.adminIdentityPath, join(dir, "admin.identity"));
  const login = currentOsUser()?.name;
  if (!login) throw new Error("cannot find the current OS user in the passwd database");
  const svc = auth.svc;
  await svc.putResource({ kind: "role", name: DEV_ROLE, allow: { logins: [login] } }, "dev");
  if (!(await svc.store.getResource("user", login))) await svc.putResource({ kind: "user", name: login, roles: [DEV_ROLE] }, "dev");
  const joined = existsSync(join(dir, "agent", "identity"));
  const token = joined ? undefined : (await svc.createToken(ms(10 * 60_000), false, "dev")).token;
  const agent = await startAgent(parseAgentConfig({
    data_dir: join(dir, "agent"),
    auth_server: `127.0.0.1:${auth.port}`,
    ...(token ? { join_token: token, ca_pin: auth.caPin } : {}),
    ssh: { listen: `127.0.0.1:${opts.sshPort}` },
    diag_addr: `127.0.0.1:${opts.agentDiagPort}`,
    log_level: opts.logLevel,
  }, "dev"), log.child({ component: "agent" }));
  const keyPath = join(dir, "id_ed25519");
  const pub = userKey(keyPath, login);
  writeFileAtomic(`${keyPath}-cert.pub`, (await svc.signUserCert(login, pub, CERT_TTL)).line + "\n", 0o644);
  writeFileAtomic(join(dir, "known_hosts"), `@cert-authority * ${svc.cas.host.publicLine}\n`, 0o644);
  writeFileAtomic(join(dir, "ssh_config"), devSshConfig({ dir, port: agent.sshPort, login }), 0o644);
  const shown = isAbsolute(opts.dir) ? opts.dir : relative(process.cwd(), dir) || ".";
  console.log(`hostward dev cluster is up: auth 127.0.0.1:${auth.port}, node ${agent.serverId} on 127.0.0.1:${agent.sshPort}`);
  const identity = dir === resolve(".hostward") ? "" : ` --identity ${shown}/admin.identity`;
  console.log(`ctl acts as the cluster's admin: ${ctlCommand()}${identity} status`);
  console.log(`Metrics: http://127.0.0.1:${auth.diagPort}/metrics (auth), http://127.0.0.1:${agent.diagPort}/metrics (agent)`);
  console.log(`Log in with:\n\n  ssh -F ${shown}/ssh_config node\n`);
  console.log(`Web console: ${auth.addonUrls[0]} (sign in with: ${ctlCommand().replace(/ ctl$/, " web")}${identity})`);
  console.log("Ctrl-C stops everything.");
  stopOnSignal(async () => {
    await agent.stop();
    await auth.stop();
  });
}

function devOptions(args: string[]) {
  try {
    const { values } = parseArgs({ args, strict: true, options: {
      dir: { type: "string" }, "auth-port": { type: "string" }, "web-port": { type: "string" }, "ssh-port": { type: "string" }, "log-level": { type: "string" },
      "diag-port": { type: "string" }, "agent-diag-port": { type: "string" },
    } });
    return {
      dir: values.dir ?? ".hostward",
      authPort: port(values["auth-port"] ?? "3025", "--auth-port"),
      sshPort: port(values["ssh-port"] ?? "3022", "--ssh-port"),
      webPort: port(values["web-port"] ?? "3080", "--web-port"),
      diagPort: port(values["diag-port"] ?? "0", "--diag-port"),
      agentDiagPort: port(values["agent-diag-port"] ?? "0", "--agent-diag-port"),
      logLevel: (values["log-level"] ?? "warn") as "debug" | "info" | "warn" | "error",
    };
  } catch (e) {
    throw usage(`dev: ${(e as Error).message}`);
  }
}

function port(s: string, flag: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw usage(`dev: ${flag}: expected a port number, got ${JSON.stringify(s)}`);
  return n;
}

/** The dev user's key pair, made once; returns the public key line. */
function userKey(path: string, login: string): string {
  if (!existsSync(path)) {
    const k = generateEd25519();
    writeFileAtomic(path, encodeOpenSshPrivateKey(k.privateKey, `${login}@hostward-dev`), 0o600);
    writeFileAtomic(`${path}.pub`, formatAuthorizedKey("ssh-ed25519", k.publicBlob, `${login}@hostward-dev`) + "\n", 0o644);
  }
  return readFileSync(`${path}.pub`, "utf8").trim();
}

/** How to run ctl the way this process was run: the binary, or bun on the checkout. */
function ctlCommand(): string {
  if (!Bun.main.endsWith(".ts")) return `${process.execPath} ctl`;
  const bun = existsSync("node_modules/.bin/bun") ? "node_modules/.bin/bun" : "bun";
  return `${bun} ${relative(process.cwd(), Bun.main) || Bun.main} ctl`;
}
