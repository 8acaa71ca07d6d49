// The openssh-key-v1 private key file ("BEGIN OPENSSH PRIVATE KEY"), unencrypted Ed25519 only:
// the format hostward writes its own CA and host keys in, readable by ssh-keygen and ssh2.

import { Buffer } from "node:buffer";
import type { KeyObject } from "node:crypto";
import { nodeCrypto } from "./node-crypto.ts";
import { ed25519FromPrivate, KeyFormatError } from "./ssh-key.ts";
import { WireError, WireReader, WireWriter } from "./ssh-wire.ts";

const MAGIC = new TextEncoder().encode("openssh-key-v1\0");
const BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----";
const END = "-----END OPENSSH PRIVATE KEY-----";
// Cipher "none" pads the private section to 8-byte blocks.
const BLOCK = 8;
// Ed25519 key files are well under 1 KiB; a long comment still fits comfortably.
const MAX_PEM = 64 * 1024;

export function encodeOpenSshPrivateKey(privateKey: KeyObject, comment: string): string {
  const { publicBlob } = ed25519FromPrivate(privateKey);
  const jwk = privateKey.export({ format: "jwk" });
  if (typeof jwk.d !== "string" || typeof jwk.x !== "string") throw new KeyFormatError("cannot export ed25519 key");
  const seed = Buffer.from(jwk.d, "base64url");
  const pub = Buffer.from(jwk.x, "base64url");
  // The two equal check words let a reader detect a wrong passphrase; for "none" they are just random.
  const check = nodeCrypto().randomBytes(4).readUInt32BE(0);
  const section = new WireWriter()
    .u32(check)
    .u32(check)
    .text("ssh-ed25519")
    .bytes(pub)
    .bytes(Buffer.concat([seed, pub]))
    .text(comment)
    .finish();
  const file = new WireWriter()
    .raw(MAGIC)
    .text("none")
    .text("none")
    .bytes(new Uint8Array(0))
    .u32(1)
    .bytes(publicBlob)
    .bytes(_pad(section))
    .finish();
  const lines = Buffer.from(file).toString("base64").match(/.{1,70}/g) ?? [];
  return `${BEGIN}\n${lines.join("\n")}\n${END}\n`;
}

export function decodeOpenSshPrivateKey(pem: string): KeyObject {
  const { seed, publicKey, publicBlob } = decodeOpenSshEd25519(pem);
  const key = _privateKeyObject(seed, publicKey);
  if (!_equal(ed25519FromPrivate(key).publicBlob, publicBlob)) {
    throw new KeyFormatError("public key does not match private key");
  }
  return key;
}

/**
 * The raw Ed25519 seed and public key, without node:crypto (the CLI signs with WebCrypto).
 * The file is checked as decodeOpenSshPrivateKey checks it, except that the seed derives
 * the public key: a file where it does not only makes signatures that do not verify.
 */
export function decodeOpenSshEd25519(pem: string): { seed: Uint8Array; publicKey: Uint8Array; publicBlob: Uint8Array } {
  if (pem.length > MAX_PEM) throw new KeyFormatError("private key file too large");
  try {
    return _decode(_unarmor(pem));
  } catch (e) {
    if (e instanceof WireError) throw new KeyFormatError(`malformed private key: ${e.message}`);
    throw e;
  }
}

function _pad(section: Uint8Array): Uint8Array {
  const padLen = (BLOCK - (section.length % BLOCK)) % BLOCK;
  const out = new Uint8Array(section.length + padLen);
  out.set(section);
  for (let i = 0; i < padLen; i++) out[section.length + i] = i + 1;
  return out;
}

function _unarmor(pem: string): Uint8Array {
  const text = pem.trim();
  if (!text.startsWith(BEGIN) || !text.endsWith(END)) throw new KeyFormatError("not an OpenSSH private key");
  const b64 = text.slice(BEGIN.length, text.length - END.length).replace(/\s+/g, "");
  const bytes = Buffer.from(b64, "base64");
  if (bytes.length === 0 || bytes.toString("base64") !== b64) throw new KeyFormatError("invalid base64 in private key");
  return new Uint8Array(bytes);
}

function _decode(file: Uint8Array): { seed: Uint8Array; publicKey: Uint8Array; publicBlob: Uint8Array } {
  if (file.length < MAGIC.length || !_equal(file.subarray(0, MAGIC.length), MAGIC)) {
    throw new KeyFormatError("not an openssh-key-v1 file");
  }
  const r = new WireReader(file.subarray(MAGIC.length));
  const cipher = r.text();
  const kdf = r.text();
  const kdfOptions = r.bytes();
  if (cipher !== "none" || kdf !== "none") throw new KeyFormatError("encrypted keys are not supported");
  if (kdfOptions.length !== 0) throw new KeyFormatError("unexpected kdf options");
  if (r.u32() !== 1) throw new KeyFormatError("expected exactly one key");
  const publicBlob = r.bytes();
  const section = r.bytes();
  if (!r.done) throw new KeyFormatError("trailing data after private key");
  const { seed, publicKey } = _decodeSection(section);
  if (!_equal(new WireWriter().text("ssh-ed25519").bytes(publicKey).finish(), publicBlob)) {
    throw new KeyFormatError("public key does not match private key");
  }
  return { seed, publicKey, publicBlob };
}

function _decodeSection(section: Uint8Array): { seed: Uint8Array; publicKey: Uint8Array } {
  if (section.length % BLOCK !== 0) throw new KeyFormatError("bad private section length");
  const r = new WireReader(section);
  if (r.u32() !== r.u32()) throw new KeyFormatError("check words differ (corrupt key)");
  if (r.text() !== "ssh-ed25519") throw new KeyFormatError("only ed25519 private keys are supported");
  const pub = r.bytes();
  const secret = r.bytes();
  r.bytes(); // comment: not needed, and not required to be UTF-8
  const padding = r.rest();
  if (pub.length !== 32 || secret.length !== 64) throw new KeyFormatError("bad ed25519 key length");
  if (!_equal(secret.subarray(32), pub)) throw new KeyFormatError("ed25519 secret does not contain its public key");
  if (padding.length >= BLOCK || padding.some((b, i) => b !== i + 1)) throw new KeyFormatError("bad padding");
  return { seed: secret.subarray(0, 32), publicKey: pub };
}

function _privateKeyObject(seed: Uint8Array, pub: Uint8Array): KeyObject {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64url");
  try {
    return nodeCrypto().createPrivateKey({ key: { kty: "OKP", crv: "Ed25519", d: b64(seed), x: b64(pub) }, format: "jwk" });
  } catch {
    throw new KeyFormatError("invalid ed25519 key");
  }
}

/** Constant time, without loading node:crypto for it. */
function _equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
