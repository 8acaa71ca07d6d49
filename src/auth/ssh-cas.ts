// The user and host SSH certificate authorities: ed25519 keys made on first start,
// kept as OpenSSH private key files (0600) under <data_dir>/ssh/.
import type { KeyObject } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeOpenSshPrivateKey, encodeOpenSshPrivateKey } from "../core/openssh-private-key.ts";
import { ed25519FromPrivate, formatAuthorizedKey, generateEd25519 } from "../core/ssh-key.ts";
import { writeFileAtomic } from "../platform/fs-atomic.ts";

export interface SshCa {
  publicBlob: Uint8Array;
  privateKey: KeyObject;
  /** "ssh-ed25519 AAAA… hostward user CA" */
  publicLine: string;
}

export interface SshCas {
  user: SshCa;
  host: SshCa;
}

export function loadOrCreateSshCas(dataDir: string, clusterName: string): SshCas {
  const dir = join(dataDir, "ssh");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return {
    user: loadOrCreate(join(dir, "user_ca"), `${clusterName} user CA`),
    host: loadOrCreate(join(dir, "host_ca"), `${clusterName} host CA`),
  };
}

function loadOrCreate(path: string, comment: string): SshCa {
  if (!existsSync(path)) {
    const k = generateEd25519();
    writeFileAtomic(path, encodeOpenSshPrivateKey(k.privateKey, comment), 0o600);
  }
  const k = ed25519FromPrivate(decodeOpenSshPrivateKey(readFileSync(path, "utf8")));
  return { publicBlob: k.publicBlob, privateKey: k.privateKey, publicLine: formatAuthorizedKey("ssh-ed25519", k.publicBlob, comment) };
}
