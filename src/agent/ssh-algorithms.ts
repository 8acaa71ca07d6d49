// The SSH algorithms the agent offers, written here and nowhere else (never ssh2's
// defaults), and the one per-client choice: which ciphers a client is offered.
import { registerKexExtension } from "ssh2/lib/protocol/constants.js";
import { KexInit } from "ssh2/lib/protocol/kex.js";
import type { Connection } from "ssh2";
import { MLKEM768X25519_SHA256, selfTest } from "./kex-mlkem768x25519.ts";

// Post-quantum hybrid first, then X25519. No finite-field DH: under Bun, ssh2's
// diffie-hellman-group16 costs 14 s and group18 3 minutes of event-loop time per
// handshake (createDiffieHellmanGroup), which any unauthenticated client could ask for.
// No NIST curves (ssh-audit: fail), no SHA-1, no group exchange.
export const KEX = [
  "mlkem768x25519-sha256",
  "curve25519-sha256",
  "curve25519-sha256@libssh.org",
];

// AES-GCM is what ssh2 does fastest here (OpenSSL's AES-NI via node:crypto). Bun's
// crypto has no ChaCha20, so chacha20-poly1305 is not offered.
export const CIPHERS_AEAD = ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com"];
// For clients without AES-GCM (paramiko): CTR, only with an encrypt-then-MAC SHA-2 MAC.
export const CIPHERS_ALL = [...CIPHERS_AEAD, "aes128-ctr", "aes256-ctr"];
export const MACS = ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com"];
// zlib@openssh.com starts only after authentication (ssh2 switches on USERAUTH_SUCCESS);
// plain "zlib" would inflate an unauthenticated client's data, so it is never offered.
export const COMPRESSION = ["none", "zlib@openssh.com"];

/** ssh2 Server `algorithms` (host key algorithms follow the host keys: certificate, then ed25519). */
export function serverAlgorithms(): { kex: string[]; cipher: string[]; hmac: string[]; compress: string[] } {
  selfTest(MLKEM768X25519_SHA256);
  registerKexExtension("mlkem768x25519-sha256", MLKEM768X25519_SHA256);
  return { kex: KEX, cipher: CIPHERS_ALL, hmac: MACS, compress: COMPRESSION };
}

// Clients that speak AES-GCM but rank CTR above it, and would so negotiate the slower
// CTR: OpenSSH (chacha20, aes*-ctr, aes*-gcm) and PuTTY 0.76+ (aes*-ctr first). They are
// offered AES-GCM only; any other client gets CTR too, so an unknown one still connects.
const GCM_ONLY = [/^OpenSSH_/, /^PuTTY_Release_0\.(7[6-9]|[89]\d)\b/];

export function ciphersFor(software: string): string[] {
  return GCM_ONLY.some((re) => re.test(software)) ? CIPHERS_AEAD : CIPHERS_ALL;
}

const narrowed = new WeakMap<KexInit, KexInit>();

/**
 * Sets the connection's offer from the client's identification string. Called from the
 * Server's connection event, which ssh2 emits after reading the client's ident and
 * before it sends its KEXINIT.
 */
export function offerFor(client: Connection, software: string): void {
  const proto = (client as unknown as { _protocol?: { _offer?: unknown } })._protocol;
  const base = proto?._offer;
  if (!(base instanceof KexInit)) throw new Error("ssh2 internals changed: no KexInit offer on the connection");
  const ciphers = ciphersFor(software);
  if (ciphers === CIPHERS_ALL) return;
  let offer = narrowed.get(base);
  if (!offer) {
    const l = base.lists;
    const dir = { cipher: ciphers, mac: l.cs.mac.array, compress: l.cs.compress.array, lang: [] };
    offer = new KexInit({ kex: l.kex.array, serverHostKey: l.serverHostKey.array, cs: dir, sc: dir });
    narrowed.set(base, offer);
  }
  proto!._offer = offer;
}
