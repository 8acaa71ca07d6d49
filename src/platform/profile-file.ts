// A person's saved login (~/.hostward/profile.toml, written by `hostward login`):
// where the auth service is, its pinned CA, and the paths of their key and certificate.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "./fs-atomic.ts";
import { tomlStringify } from "./toml-stringify.ts";

export interface Profile {
  authServer: string;
  caPin: string;
  caCertPem: string;
  keyPath: string;
  certPath: string;
}

export function profilePath(env: Record<string, string | undefined>): string {
  return join(env.HOME ?? homedir(), ".hostward", "profile.toml");
}

export function readProfile(path: string): Profile {
  let o: Record<string, unknown>;
  try {
    o = Bun.TOML.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message.split("\n")[0]}`);
  }
  const s = (k: string): string => {
    if (typeof o[k] !== "string" || o[k] === "") throw new Error(`${path}: ${k}: missing or not a string`);
    return o[k] as string;
  };
  return { authServer: s("auth_server"), caPin: s("ca_pin"), caCertPem: s("ca_cert"), keyPath: s("key"), certPath: s("cert") };
}

export function writeProfile(path: string, p: Profile): void {
  const text = tomlStringify({ auth_server: p.authServer, ca_pin: p.caPin, ca_cert: p.caCertPem, key: p.keyPath, cert: p.certPath });
  writeFileAtomic(path, text, 0o600);
}
