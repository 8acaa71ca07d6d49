// Identity files (admin.identity, a person's profile key material, an agent's
// identity): where the auth service is, its CA, and the key that proves who we are.
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "./fs-atomic.ts";
import { tomlStringify } from "./toml-stringify.ts";

export interface Identity {
  authServer: string;
  caPin: string;
  caCertPem: string;
  /** OpenSSH private key (PEM). */
  keyPem: string;
  /** OpenSSH certificate line for people; absent for nodes. */
  cert?: string;
  /** Server UUID for nodes. */
  serverId?: string;
}

export function readIdentity(path: string): Identity {
  let o: Record<string, unknown>;
  try {
    o = Bun.TOML.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message.split("\n")[0]}`);
  }
  const s = (k: string, optional = false): string | undefined => {
    const v = o[k];
    if (v === undefined && optional) return undefined;
    if (typeof v !== "string" || v === "") throw new Error(`${path}: ${k}: missing or not a string`);
    return v;
  };
  return { authServer: s("auth_server")!, caPin: s("ca_pin")!, caCertPem: s("ca_cert")!, keyPem: s("key")!, cert: s("cert", true), serverId: s("server_id", true) };
}

export function writeIdentity(path: string, id: Identity): void {
  const o: Record<string, string> = { auth_server: id.authServer, ca_pin: id.caPin, ca_cert: id.caCertPem, key: id.keyPem };
  if (id.cert) o.cert = id.cert;
  if (id.serverId) o.server_id = id.serverId;
  writeFileAtomic(path, tomlStringify(o), 0o600);
}
