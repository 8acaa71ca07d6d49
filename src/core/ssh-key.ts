// Plain SSH public keys: wire blobs, authorized_keys lines, fingerprints, signature
// verification, and the Ed25519 keys hostward itself generates and signs with.

import { Buffer } from "node:buffer";
import type { KeyObject } from "node:crypto";
import { nodeCrypto } from "./node-crypto.ts";
import { WireError, WireReader, WireWriter } from "./ssh-wire.ts";

/** Any malformed or unsupported key; `message` is a short reason safe to show. */
export class KeyFormatError extends Error {
  override name = "KeyFormatError";
}

export interface SshPublicKey {
  type: string;
  blob: Uint8Array;
}

/** The decoded fields of a supported key, as needed to build a node:crypto key. */
export type KeyParts =
  | { kind: "ed25519"; pub: Uint8Array }
  | { kind: "ecdsa"; curve: EcCurve; x: Uint8Array; y: Uint8Array }
  | { kind: "rsa"; e: Uint8Array; n: Uint8Array };

interface EcCurve {
  name: string;
  jwk: string;
  size: number;
  hash: string;
}

const EC_CURVES: Record<string, EcCurve> = {
  "ecdsa-sha2-nistp256": { name: "nistp256", jwk: "P-256", size: 32, hash: "sha256" },
  "ecdsa-sha2-nistp384": { name: "nistp384", jwk: "P-384", size: 48, hash: "sha384" },
  "ecdsa-sha2-nistp521": { name: "nistp521", jwk: "P-521", size: 66, hash: "sha512" },
};

/** Signature algorithms we accept, with the key type each belongs to. Plain "ssh-rsa" (SHA-1) is absent on purpose. */
const SIG_ALGS: Record<string, { keyType: string; hash: string | null }> = {
  "ssh-ed25519": { keyType: "ssh-ed25519", hash: null },
  "ecdsa-sha2-nistp256": { keyType: "ecdsa-sha2-nistp256", hash: "sha256" },
  "ecdsa-sha2-nistp384": { keyType: "ecdsa-sha2-nistp384", hash: "sha384" },
  "ecdsa-sha2-nistp521": { keyType: "ecdsa-sha2-nistp521", hash: "sha512" },
  "rsa-sha2-256": { keyType: "ssh-rsa", hash: "sha256" },
  "rsa-sha2-512": { keyType: "ssh-rsa", hash: "sha512" },
};

export const KEY_TYPES: readonly string[] = ["ssh-ed25519", ...Object.keys(EC_CURVES), "ssh-rsa"];
export const CERT_SUFFIX = "-cert-v01@openssh.com";
// OpenSSH's limits (SSH_RSA_MINIMUM_MODULUS_SIZE, SSHBUF_MAX_BIGNUM).
const RSA_MIN_BITS = 1024;
const RSA_MAX_BITS = 16384;
const MAX_LINE = 64 * 1024;

/** Reads the key fields that follow the type name (in a key blob or inside a certificate). */
export function readKeyFields(r: WireReader, type: string): KeyParts {
  if (type === "ssh-ed25519") {
    const pub = r.bytes();
    if (pub.length !== 32) throw new KeyFormatError("bad ed25519 key length");
    return { kind: "ed25519", pub: pub.slice() };
  }
  const curve = EC_CURVES[type];
  if (curve) return _readEcdsa(r, curve);
  if (type === "ssh-rsa") return _readRsa(r);
  throw new KeyFormatError(`unsupported key type "${_clip(type)}"`);
}

export function parsePublicKeyBlob(blob: Uint8Array): SshPublicKey {
  return _parseBlob(blob).key;
}

/** Parses "type base64 [comment]". Certificate lines are only checked for a matching type; use parseCertificate for the rest. */
export function parseAuthorizedKeyLine(line: string): SshPublicKey & { comment: string } {
  if (line.length > MAX_LINE) throw new KeyFormatError("line too long");
  const trimmed = line.trim();
  if (trimmed === "" || trimmed.startsWith("#")) throw new KeyFormatError("empty line");
  if (/[\r\n\0]/.test(trimmed)) throw new KeyFormatError("more than one line");
  const m = /^(\S+)\s+(\S+)(?:\s+([^]*))?$/.exec(trimmed);
  const type = m?.[1] ?? trimmed;
  const isCert = type.endsWith(CERT_SUFFIX) && KEY_TYPES.includes(type.slice(0, -CERT_SUFFIX.length));
  if (!KEY_TYPES.includes(type) && !isCert) {
    if (/[="]/.test(type)) throw new KeyFormatError("authorized_keys options are not supported");
    throw new KeyFormatError(`unsupported key type "${_clip(type)}"`);
  }
  if (!m) throw new KeyFormatError("missing key data");
  const blob = _decodeBase64(m[2]!);
  const blobType = isCert ? _readType(blob) : parsePublicKeyBlob(blob).type;
  if (blobType !== type) throw new KeyFormatError("key type does not match its data");
  return { type, blob, comment: m[3] ?? "" };
}

export function formatAuthorizedKey(type: string, blob: Uint8Array, comment?: string): string {
  if (!/^[A-Za-z0-9@._+-]+$/.test(type)) throw new KeyFormatError("invalid key type name");
  // A newline in a comment would let a caller smuggle a second key into an authorized_keys file.
  if (comment && /[\x00-\x1f\x7f]/.test(comment)) throw new KeyFormatError("comment contains control characters");
  const line = `${type} ${Buffer.from(blob).toString("base64")}`;
  return comment ? `${line} ${comment}` : line;
}

/** "SHA256:<unpadded base64>", as `ssh-keygen -l` prints it. */
export function fingerprint(blob: Uint8Array): string {
  return "SHA256:" + nodeCrypto().createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
}

/**
 * Verifies an SSH signature over `data`. Accepts the wire form (string algorithm, string
 * signature) and, because ssh2 strips that wrapper, a raw one; for a raw RSA signature
 * both SHA-2 variants are tried, since ssh2 passes the hash separately. Never throws.
 */
export function verifySshSignature(publicKeyBlob: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    const { key, parts } = _parseBlob(publicKeyBlob);
    const keyObject = nodeCrypto().createPublicKey({ key: _jwk(parts), format: "jwk" });
    const wrapped = _unwrapSignature(signature);
    if (wrapped) {
      const alg = SIG_ALGS[wrapped.alg];
      if (!alg || alg.keyType !== key.type) return false;
      return _verifyRaw(wrapped.alg, keyObject, parts, data, wrapped.sig, false);
    }
    const algs = key.type === "ssh-rsa" ? ["rsa-sha2-256", "rsa-sha2-512"] : [key.type];
    return algs.some((alg) => _verifyRaw(alg, keyObject, parts, data, signature, true));
  } catch {
    return false;
  }
}

export interface Ed25519Pair {
  publicBlob: Uint8Array;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function generateEd25519(): Ed25519Pair {
  return ed25519FromPrivate(nodeCrypto().generateKeyPairSync("ed25519").privateKey);
}

export function ed25519FromPrivate(key: KeyObject): Ed25519Pair {
  _requireEd25519Private(key);
  const publicKey = nodeCrypto().createPublicKey(key);
  const x = publicKey.export({ format: "jwk" }).x;
  if (typeof x !== "string") throw new KeyFormatError("cannot export ed25519 public key");
  const publicBlob = new WireWriter().text("ssh-ed25519").bytes(Buffer.from(x, "base64url")).finish();
  return { publicBlob, privateKey: key, publicKey };
}

/** Signs with Ed25519 and returns the SSH wire signature (string "ssh-ed25519", string sig). */
export function signEd25519(privateKey: KeyObject, data: Uint8Array): Uint8Array {
  _requireEd25519Private(privateKey);
  const sig = nodeCrypto().sign(null, data, privateKey);
  return new WireWriter().text("ssh-ed25519").bytes(sig).finish();
}

function _parseBlob(blob: Uint8Array): { key: SshPublicKey; parts: KeyParts } {
  try {
    const r = new WireReader(blob);
    const type = r.text();
    const parts = readKeyFields(r, type);
    if (!r.done) throw new KeyFormatError("trailing data after key");
    // One key, one blob: a padded mpint would otherwise give the same key a second fingerprint.
    if (!_sameBytes(_encodeBlob(type, parts), blob)) throw new KeyFormatError("non-canonical key encoding");
    return { key: { type, blob: blob.slice() }, parts };
  } catch (e) {
    if (e instanceof WireError) throw new KeyFormatError(`malformed key: ${e.message}`);
    throw e;
  }
}

function _encodeBlob(type: string, parts: KeyParts): Uint8Array {
  const w = new WireWriter().text(type);
  switch (parts.kind) {
    case "ed25519":
      return w.bytes(parts.pub).finish();
    case "ecdsa":
      return w.text(parts.curve.name).bytes(Buffer.concat([Uint8Array.of(4), parts.x, parts.y])).finish();
    case "rsa":
      return w.mpint(parts.e).mpint(parts.n).finish();
  }
}

function _sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function _readEcdsa(r: WireReader, curve: EcCurve): KeyParts {
  if (r.text() !== curve.name) throw new KeyFormatError("ecdsa curve does not match key type");
  const q = r.bytes();
  // Only uncompressed points (0x04 || X || Y), which is all OpenSSH writes.
  if (q.length !== 1 + 2 * curve.size || q[0] !== 0x04) throw new KeyFormatError("bad ecdsa point");
  return { kind: "ecdsa", curve, x: q.slice(1, 1 + curve.size), y: q.slice(1 + curve.size) };
}

function _readRsa(r: WireReader): KeyParts {
  const e = r.mpint().slice();
  const n = r.mpint().slice();
  const bits = n.length === 0 ? 0 : (n.length - 1) * 8 + (32 - Math.clz32(n[0]!));
  if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) throw new KeyFormatError("rsa modulus size not allowed");
  // e = 1 would make every padded digest a valid signature.
  if (e.length === 0 || e.length > 8 || (e[e.length - 1]! & 1) === 0 || (e.length === 1 && e[0]! < 3)) {
    throw new KeyFormatError("bad rsa exponent");
  }
  return { kind: "rsa", e, n };
}

function _jwk(parts: KeyParts): Record<string, string> {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64url");
  switch (parts.kind) {
    case "ed25519":
      return { kty: "OKP", crv: "Ed25519", x: b64(parts.pub) };
    case "ecdsa":
      return { kty: "EC", crv: parts.curve.jwk, x: b64(parts.x), y: b64(parts.y) };
    case "rsa":
      return { kty: "RSA", n: b64(parts.n), e: b64(parts.e) };
  }
}

function _unwrapSignature(sig: Uint8Array): { alg: string; sig: Uint8Array } | null {
  try {
    const r = new WireReader(sig);
    const alg = r.text();
    const inner = r.bytes();
    if (!r.done || !(alg in SIG_ALGS || alg === "ssh-rsa")) return null;
    return { alg, sig: inner };
  } catch {
    return null;
  }
}

function _verifyRaw(alg: string, key: KeyObject, parts: KeyParts, data: Uint8Array, sig: Uint8Array, raw: boolean): boolean {
  const { verify } = nodeCrypto();
  const hash = SIG_ALGS[alg]?.hash ?? null;
  switch (parts.kind) {
    case "ed25519":
      return sig.length === 64 && verify(null, data, key, sig);
    case "rsa":
      return hash !== null && verify(hash, data, key, _leftPad(sig, parts.n.length));
    case "ecdsa":
      if (hash === null) return false;
      // ssh2 hands over ECDSA signatures already converted to DER (a SEQUENCE, tag 0x30).
      if (raw && sig[0] === 0x30) return verify(hash, data, { key, dsaEncoding: "der" }, sig);
      return verify(hash, data, { key, dsaEncoding: "ieee-p1363" }, _ecdsaP1363(sig, parts.curve.size));
  }
}

/** SSH ECDSA signature body (mpint r, mpint s) to fixed-width r || s. */
function _ecdsaP1363(sig: Uint8Array, size: number): Uint8Array {
  const r = new WireReader(sig);
  const rr = r.mpint();
  const ss = r.mpint();
  if (!r.done || rr.length > size || ss.length > size) throw new KeyFormatError("bad ecdsa signature");
  const out = new Uint8Array(2 * size);
  out.set(rr, size - rr.length);
  out.set(ss, 2 * size - ss.length);
  return out;
}

// OpenSSH accepts RSA signatures shorter than the modulus and pads them; OpenSSL wants exact length.
function _leftPad(sig: Uint8Array, len: number): Uint8Array {
  if (sig.length > len) throw new KeyFormatError("rsa signature too long");
  if (sig.length === len) return sig;
  const out = new Uint8Array(len);
  out.set(sig, len - sig.length);
  return out;
}

function _readType(blob: Uint8Array): string {
  try {
    return new WireReader(blob).text();
  } catch {
    throw new KeyFormatError("malformed key data");
  }
}

function _decodeBase64(s: string): Uint8Array {
  // Buffer's decoder skips junk silently; insist on canonical base64 so one key has one spelling.
  const bytes = Buffer.from(s, "base64");
  if (bytes.length === 0 || bytes.toString("base64") !== s) throw new KeyFormatError("invalid base64 key data");
  return new Uint8Array(bytes);
}

function _requireEd25519Private(key: KeyObject): void {
  if (key.type !== "private" || key.asymmetricKeyType !== "ed25519") {
    throw new KeyFormatError("not an Ed25519 private key");
  }
}

/** Cuts untrusted text short for messages, as OpenSSH does with %.100s. */
function _clip(s: string): string {
  return JSON.stringify(s.length > 40 ? s.slice(0, 40) + "…" : s).slice(1, -1);
}
