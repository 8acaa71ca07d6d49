// Finds who `ctl` acts as, in order: --identity FILE, $HOSTWARD_IDENTITY,
// ./.hostward/admin.identity (a dev cluster), /var/lib/hostward/auth/admin.identity.
import { existsSync } from "node:fs";
import { decodeOpenSshPrivateKey } from "../core/openssh-private-key.ts";
import { parseAuthorizedKeyLine } from "../core/ssh-key.ts";
import { ApiClient } from "../platform/api-client.ts";
import { readIdentity } from "../platform/identity-file.ts";
import { CliError } from "./ctl-error.ts";

export const DEFAULT_IDENTITY_PATHS = ["./.hostward/admin.identity", "/var/lib/hostward/auth/admin.identity"];

export function identityPath(flag: string | undefined, env: Record<string, string | undefined>): string {
  if (flag) return flag;
  if (env.HOSTWARD_IDENTITY) return env.HOSTWARD_IDENTITY;
  const found = DEFAULT_IDENTITY_PATHS.find((p) => existsSync(p));
  if (!found) throw new CliError(`no identity: pass --identity FILE or set HOSTWARD_IDENTITY (looked in ${DEFAULT_IDENTITY_PATHS.join(", ")})`);
  return found;
}

export function clientFor(path: string, authOverride?: string): ApiClient {
  let id;
  try {
    id = readIdentity(path);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  if (!id.cert) throw new CliError(`${path}: no certificate in identity file`);
  const cert = Buffer.from(parseAuthorizedKeyLine(id.cert).blob).toString("base64");
  return new ApiClient(authOverride ?? id.authServer, id.caCertPem, { subject: { cert }, privateKey: decodeOpenSshPrivateKey(id.keyPem) });
}
