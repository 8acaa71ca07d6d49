// Finds who `ctl` acts as, in order: --identity FILE, $HOSTWARD_IDENTITY, the
// person's profile from `hostward login` (~/.hostward/profile.toml), a dev cluster's
// ./.hostward/admin.identity, then /var/lib/hostward/auth/admin.identity.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { decodeOpenSshEd25519 } from "../core/openssh-private-key.ts";
import { parseAuthorizedKeyLine } from "../core/ssh-key.ts";
import { parseCertificate } from "../core/sshcert.ts";
import { ApiClient } from "./api-client.ts";
import { readIdentity } from "./identity-file.ts";
import { profilePath, readProfile } from "./profile-file.ts";
import { CliError } from "./cli-error.ts";

export const ADMIN_IDENTITY_PATHS = ["./.hostward/admin.identity", "/var/lib/hostward/auth/admin.identity"];

export type IdentitySource = { kind: "identity"; path: string } | { kind: "profile"; path: string };

export function selectIdentity(flag: string | undefined, env: Record<string, string | undefined>): IdentitySource {
  if (flag) return { kind: "identity", path: flag };
  if (env.HOSTWARD_IDENTITY) return { kind: "identity", path: env.HOSTWARD_IDENTITY };
  const profile = profilePath(env);
  if (existsSync(profile)) return { kind: "profile", path: profile };
  const found = ADMIN_IDENTITY_PATHS.find((p) => existsSync(p));
  if (!found) throw new CliError(`no identity: run \`hostward login\`, pass --identity FILE or set HOSTWARD_IDENTITY (looked in ${profile}, ${ADMIN_IDENTITY_PATHS.join(", ")})`);
  return { kind: "identity", path: found };
}

export function clientFor(src: IdentitySource, authOverride?: string): ApiClient {
  try {
    if (src.kind === "identity") {
      const id = readIdentity(src.path);
      if (!id.cert) throw new CliError(`${src.path}: no certificate in identity file`);
      return client(authOverride ?? id.authServer, id.caCertPem, id.cert, id.keyPem, src.path);
    }
    const p = readProfile(src.path);
    return client(authOverride ?? p.authServer, p.caCertPem, readText(p.certPath), readText(p.keyPath), p.certPath);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError((e as Error).message);
  }
}

function client(authServer: string, caCertPem: string, certLine: string, keyPem: string, certSource: string): ApiClient {
  const blob = parseAuthorizedKeyLine(certLine.trim()).blob;
  const validBefore = Number(parseCertificate(blob).validBefore) * 1000;
  if (validBefore < Date.now()) {
    throw new CliError(`your certificate (${certSource}) expired at ${new Date(validBefore).toISOString()}: ask an admin for a new one (hostward ctl users sign NAME --pubkey KEY.pub)`);
  }
  // "a:3025,b:3025": several replicas, tried in turn.
  const servers = authServer.split(",").map((s) => s.trim()).filter(Boolean);
  return new ApiClient(servers, caCertPem, { subject: { cert: Buffer.from(blob).toString("base64") }, webKey: webSigningKey(keyPem) });
}

// PKCS#8 for an Ed25519 private key (RFC 8410) is this fixed prefix and the 32-byte seed.
const ED25519_PKCS8_PREFIX = Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20);

/** The key as WebCrypto's: a command signs with it without loading node:crypto (~7 ms of CPU). */
function webSigningKey(keyPem: string): Promise<CryptoKey> {
  const { seed } = decodeOpenSshEd25519(keyPem);
  const pkcs8 = new Uint8Array(ED25519_PKCS8_PREFIX.length + seed.length);
  pkcs8.set(ED25519_PKCS8_PREFIX);
  pkcs8.set(seed, ED25519_PKCS8_PREFIX.length);
  const key = crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
  key.catch(() => {}); // a bad key fails the first request that awaits it, not the process
  return key;
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new CliError(`${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
}

export function ensureDir(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
}
