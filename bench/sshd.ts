// OpenSSH's sshd on a loopback port for comparison: a throwaway host CA, host key and
// certificate, user CA and user certificate, and a client ssh_config shaped exactly
// like the one `hostward dev` writes, so both sides get the same client setup.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { devSshConfig } from "../src/dev/ssh-config.ts";
import { freePort } from "./free-port.ts";
import { runCaptured, tail } from "./run-captured.ts";
import { startService, type Service } from "./service-process.ts";
import type { SshTarget } from "./ssh-client.ts";

export const SSHD = "/usr/sbin/sshd";
const READY_TIMEOUT_MS = 15_000;
const INSTALL_TIMEOUT_MS = 240_000;

export interface Sshd {
  service: Service;
  target: SshTarget;
  port: number;
}

/** Installs Debian's openssh-server when sshd is missing. */
export async function ensureSshd(): Promise<void> {
  if (existsSync(SSHD)) return;
  const install = ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "openssh-server"];
  let r = await runCaptured(install, INSTALL_TIMEOUT_MS);
  if (r.code !== 0) {
    await runCaptured(["apt-get", "update"], INSTALL_TIMEOUT_MS);
    r = await runCaptured(install, INSTALL_TIMEOUT_MS);
  }
  if (r.code !== 0 || !existsSync(SSHD)) throw new Error(`cannot install openssh-server: ${tail(r.stderr)}`);
}

/** Starts sshd in dir (an absolute, empty directory) for login. */
export async function startSshd(dir: string, login: string): Promise<Sshd> {
  await makeKeys(dir, login);
  const port = await freePort();
  const configPath = join(dir, "sshd_config");
  writeFileSync(configPath, sshdConfig(dir, port));
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const service = await startService("sshd", [SSHD, "-D", "-e", "-f", configPath], /Server listening on 127\.0\.0\.1 port \d+/, READY_TIMEOUT_MS);
  const configFile = join(dir, "ssh_config");
  writeFileSync(configFile, devSshConfig({ dir, port, login }));
  return { service, port, target: { name: "sshd", configFile, clientOptions: [] } };
}

async function makeKeys(dir: string, login: string): Promise<void> {
  for (const name of ["host_ca", "user_ca", "ssh_host_ed25519_key", "id_ed25519"]) {
    await keygen(["-t", "ed25519", "-N", "", "-C", `bench-${name}`, "-f", join(dir, name)]);
  }
  await keygen(["-s", join(dir, "host_ca"), "-I", "bench-sshd", "-h", "-n", "127.0.0.1", "-V", "-5m:+1d", join(dir, "ssh_host_ed25519_key.pub")]);
  await keygen(["-s", join(dir, "user_ca"), "-I", "bench-user", "-n", login, "-V", "-5m:+1d", join(dir, "id_ed25519.pub")]);
  const hostCa = readFileSync(join(dir, "host_ca.pub"), "utf8").trim();
  writeFileSync(join(dir, "known_hosts"), `@cert-authority * ${hostCa}\n`);
}

async function keygen(args: string[]): Promise<void> {
  const r = await runCaptured(["ssh-keygen", "-q", ...args], 30_000);
  if (r.code !== 0) throw new Error(`ssh-keygen ${args.join(" ")}: ${tail(r.stderr)}`);
}

function sshdConfig(dir: string, port: number): string {
  return `# Written by hostward's bench for a throwaway sshd.
ListenAddress 127.0.0.1
Port ${port}
HostKey ${join(dir, "ssh_host_ed25519_key")}
HostCertificate ${join(dir, "ssh_host_ed25519_key-cert.pub")}
TrustedUserCAKeys ${join(dir, "user_ca.pub")}
PidFile ${join(dir, "sshd.pid")}
UsePAM no
PermitRootLogin yes
AuthorizedKeysFile none
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
X11Forwarding no
PrintMotd no
PrintLastLog no
LogLevel INFO
`;
}
