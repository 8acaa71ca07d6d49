// OpenSSH certificates (PROTOCOL.certkeys, *-cert-v01@openssh.com): parsing hostile bytes,
// checking a certificate against trusted CAs and a login, and signing new ones with an Ed25519 CA.

import { Buffer } from "node:buffer";
import type { KeyObject } from "node:crypto";
import { cidrContains, parseCidrList, type Cidr } from "./cidr.ts";
import {
  CERT_SUFFIX,
  ed25519FromPrivate,
  formatAuthorizedKey,
  KEY_TYPES,
  KeyFormatError,
  parsePublicKeyBlob,
  readKeyFields,
  signEd25519,
  verifySshSignature,
  type SshPublicKey,
} from "./ssh-key.ts";
import { nodeCrypto } from "./node-crypto.ts";
import { WireError, WireReader, WireWriter } from "./ssh-wire.ts";

export type CertType = "user" | "host";

/** A certificate that cannot be parsed or signed; `reason` is short text safe to show. */
export class CertificateError extends Error {
  override name = "CertificateError";
  constructor(readonly reason: string) {
    super(reason);
  }
}

export interface SshCertificate {
  type: string;
  nonce: Uint8Array;
  key: SshPublicKey;
  serial: bigint;
  certType: CertType;
  keyId: string;
  principals: string[];
  validAfter: bigint;
  validBefore: bigint;
  criticalOptions: Map<string, string>;
  extensions: Map<string, string>;
  signatureKey: Uint8Array;
  signature: Uint8Array;
  signedBytes: Uint8Array;
}

export type CertCheck = { ok: true } | { ok: false; reason: string; kind: "certificate" | "source_address" };

export interface CertificateRequest {
  certType: CertType;
  key: SshPublicKey;
  keyId: string;
  principals: string[];
  validAfter: Date;
  validBefore: Date;
  serial?: bigint;
  criticalOptions?: Map<string, string>;
  extensions?: Map<string, string>;
}

const TYPE_CODES: Record<CertType, number> = { user: 1, host: 2 };
// OpenSSH's SSHKEY_CERT_MAX_PRINCIPALS.
const MAX_PRINCIPALS = 256;
const KNOWN_CRITICAL = new Set(["source-address", "force-command"]);
// 9999-12-31T23:59:59Z: past this a time has no RFC 3339 spelling ("forever" is 2^64-1).
const MAX_RFC3339 = 253402300799n;

export function isCertificateType(type: string): boolean {
  return type.endsWith(CERT_SUFFIX) && KEY_TYPES.includes(type.slice(0, -CERT_SUFFIX.length));
}

/** A userauth key algorithm for a certificate: the certificate's type and the signature algorithm it names. */
export interface CertAlgorithm {
  certType: string;
  signature: string;
}

// RFC 8332 §3.3 and PROTOCOL.certkeys: an RSA certificate is offered under the name of its
// signature algorithm; its blob says ssh-rsa-cert-v01. ssh-rsa (SHA-1) is refused, as OpenSSH 8.8+ does.
const RSA_CERT_ALGORITHMS: Record<string, string> = {
  "rsa-sha2-256-cert-v01@openssh.com": "rsa-sha2-256",
  "rsa-sha2-512-cert-v01@openssh.com": "rsa-sha2-512",
};

/** Undefined when `algo` names no certificate we accept (a plain key, SHA-1 RSA, an unknown type). */
export function certAlgorithm(algo: string): CertAlgorithm | undefined {
  const rsa = RSA_CERT_ALGORITHMS[algo];
  if (rsa) return { certType: "ssh-rsa" + CERT_SUFFIX, signature: rsa };
  if (!isCertificateType(algo) || algo === "ssh-rsa" + CERT_SUFFIX) return undefined;
  return { certType: algo, signature: algo.slice(0, -CERT_SUFFIX.length) };
}

export function parseCertificate(blob: Uint8Array): SshCertificate {
  try {
    return _parse(blob);
  } catch (e) {
    if (e instanceof CertificateError) throw e;
    if (e instanceof WireError || e instanceof KeyFormatError) throw new CertificateError(`malformed certificate: ${e.message}`);
    throw new CertificateError("malformed certificate");
  }
}

/** Checks trust, signature, type, validity, principal and critical options, in that order. */
export function checkCertificate(
  cert: SshCertificate,
  want: { caKeys: Uint8Array[]; certType: CertType; now: Date; principal?: string; clientAddress?: string },
): CertCheck {
  const fail = (reason: string): CertCheck => ({ ok: false, reason, kind: "certificate" });
  if (!_trusted(cert.signatureKey, want.caKeys)) return fail("certificate not signed by a trusted CA");
  if (!verifySshSignature(cert.signatureKey, cert.signedBytes, cert.signature)) {
    return fail("certificate signature does not verify");
  }
  if (cert.certType !== want.certType) return fail(`not a ${want.certType} certificate`);
  const ms = want.now.getTime();
  if (!Number.isFinite(ms)) return fail("invalid current time");
  const now = BigInt(Math.floor(ms / 1000));
  if (now < cert.validAfter) {
    return fail(`certificate not yet valid: valid from ${_time(cert.validAfter)}, now ${_time(now)}`);
  }
  if (now >= cert.validBefore) {
    return fail(`certificate expired: valid until ${_time(cert.validBefore)}, now ${_time(now)}`);
  }
  // Unlike OpenSSH, an empty principal list matches nobody: fail closed.
  if (want.principal !== undefined && !cert.principals.includes(want.principal)) {
    return fail(`login "${_clip(want.principal)}" is not a principal of this certificate`);
  }
  for (const name of cert.criticalOptions.keys()) {
    if (!KNOWN_CRITICAL.has(name)) return fail(`unknown critical option "${_clip(name)}"`);
  }
  return _checkSourceAddress(cert.criticalOptions.get("source-address"), want.clientAddress);
}

/** Signs `req` with an Ed25519 CA; returns the certificate blob. */
export function signCertificate(req: CertificateRequest, ca: { publicBlob: Uint8Array; privateKey: KeyObject }): Uint8Array {
  try {
    return _sign(req, ca);
  } catch (e) {
    if (e instanceof WireError || e instanceof KeyFormatError) throw new CertificateError(`cannot sign certificate: ${e.message}`);
    throw e;
  }
}

/** An authorized_keys-style line ("<cert type> <base64> [comment]"), as ssh-keygen writes *-cert.pub. */
export function certificateToLine(blob: Uint8Array, comment?: string): string {
  const { type } = parseCertificate(blob);
  try {
    return formatAuthorizedKey(type, blob, comment);
  } catch (e) {
    throw new CertificateError(e instanceof Error ? e.message : "cannot format certificate");
  }
}

function _parse(blob: Uint8Array): SshCertificate {
  const r = new WireReader(blob);
  const type = r.text();
  if (!isCertificateType(type)) throw new CertificateError(`unsupported certificate type "${_clip(type)}"`);
  const nonce = r.bytes().slice();
  const keyType = type.slice(0, -CERT_SUFFIX.length);
  const keyStart = r.offset;
  readKeyFields(r, keyType);
  const key = parsePublicKeyBlob(new WireWriter().text(keyType).raw(blob.subarray(keyStart, r.offset)).finish());
  const serial = r.u64();
  const certType = _certType(r.u32());
  const keyId = r.text();
  const principals = _readPrincipals(r.bytes());
  const validAfter = r.u64();
  const validBefore = r.u64();
  const criticalOptions = _readOptions(r.bytes(), "critical options");
  const extensions = _readOptions(r.bytes(), "extensions");
  r.bytes(); // reserved: ignored, as the protocol says
  const signatureKey = parsePublicKeyBlob(r.bytes()).blob;
  const signedBytes = blob.slice(0, r.offset);
  const signature = r.bytes().slice();
  if (!r.done) throw new CertificateError("trailing data after certificate");
  return {
    type, nonce, key, serial, certType, keyId, principals, validAfter, validBefore,
    criticalOptions, extensions, signatureKey, signature, signedBytes,
  };
}

function _certType(code: number): CertType {
  if (code === TYPE_CODES.user) return "user";
  if (code === TYPE_CODES.host) return "host";
  throw new CertificateError("unknown certificate type code");
}

function _readPrincipals(buf: Uint8Array): string[] {
  const r = new WireReader(buf);
  const out: string[] = [];
  while (!r.done) {
    if (out.length >= MAX_PRINCIPALS) throw new CertificateError("too many principals");
    out.push(r.text());
  }
  return out;
}

/**
 * Name/data pairs. Data is empty for a flag, else an SSH string holding the value.
 * Names must be strictly ascending: a repeated source-address must not silently override another.
 */
function _readOptions(buf: Uint8Array, what: string): Map<string, string> {
  const r = new WireReader(buf);
  const out = new Map<string, string>();
  let last: Buffer | undefined;
  while (!r.done) {
    const name = r.text();
    const rawName = Buffer.from(name);
    const data = r.bytes();
    if (last && Buffer.compare(rawName, last) <= 0) throw new CertificateError(`${what} not in order or repeated`);
    last = rawName;
    out.set(name, _optionValue(data, what));
  }
  return out;
}

function _optionValue(data: Uint8Array, what: string): string {
  if (data.length === 0) return "";
  const r = new WireReader(data);
  const value = r.text();
  if (!r.done) throw new CertificateError(`bad value in ${what}`);
  return value;
}

function _trusted(signatureKey: Uint8Array, caKeys: Uint8Array[]): boolean {
  let found = false;
  for (const ca of caKeys) {
    // No early exit: the comparison time does not depend on which CA (if any) matched.
    const same = ca.length === signatureKey.length && nodeCrypto().timingSafeEqual(ca, signatureKey);
    found = same || found;
  }
  return found;
}

function _checkSourceAddress(list: string | undefined, clientAddress: string | undefined): CertCheck {
  if (list === undefined) return { ok: true };
  let cidrs: Cidr[];
  try {
    cidrs = parseCidrList(list);
  } catch {
    return { ok: false, reason: "certificate has an invalid source-address list", kind: "certificate" };
  }
  if (clientAddress === undefined) return { ok: true };
  const allowed = cidrs.some((c) => {
    try {
      return cidrContains(c, clientAddress);
    } catch {
      return false;
    }
  });
  if (allowed) return { ok: true };
  return { ok: false, reason: `source address ${_clip(clientAddress)} not allowed by certificate`, kind: "source_address" };
}

function _sign(req: CertificateRequest, ca: { publicBlob: Uint8Array; privateKey: KeyObject }): Uint8Array {
  const caPub = ed25519FromPrivate(ca.privateKey).publicBlob;
  if (Buffer.compare(caPub, ca.publicBlob) !== 0) throw new CertificateError("CA private key does not match its public key");
  const key = parsePublicKeyBlob(req.key.blob);
  if (key.type !== req.key.type) throw new CertificateError("key type does not match its blob");
  if (req.principals.length > MAX_PRINCIPALS) throw new CertificateError("too many principals");
  const validAfter = _seconds(req.validAfter);
  const validBefore = _seconds(req.validBefore);
  if (validBefore <= validAfter) throw new CertificateError("validity window is empty");
  const fields = new WireReader(key.blob);
  fields.text(); // the plain type name; the certificate carries its own
  const principals = new WireWriter();
  for (const p of req.principals) principals.text(p);
  const signed = new WireWriter()
    .text(key.type + CERT_SUFFIX)
    .bytes(nodeCrypto().randomBytes(32))
    .raw(fields.rest())
    .u64(req.serial ?? 0n)
    .u32(TYPE_CODES[req.certType])
    .text(req.keyId)
    .bytes(principals.finish())
    .u64(validAfter)
    .u64(validBefore)
    .bytes(_packOptions(req.criticalOptions))
    .bytes(_packOptions(req.extensions))
    .bytes(new Uint8Array(0))
    .bytes(ca.publicBlob)
    .finish();
  return new WireWriter().raw(signed).bytes(signEd25519(ca.privateKey, signed)).finish();
}

/** OpenSSH requires options sorted by name (byte order) and each name once. */
function _packOptions(options: Map<string, string> | undefined): Uint8Array {
  const entries = [...(options ?? new Map<string, string>())].map(([k, v]) => [Buffer.from(k), v] as const);
  entries.sort((a, b) => Buffer.compare(a[0], b[0]));
  const w = new WireWriter();
  for (const [name, value] of entries) {
    if (name.length === 0) throw new CertificateError("empty option name");
    w.bytes(name).bytes(value === "" ? new Uint8Array(0) : new WireWriter().text(value).finish());
  }
  return w.finish();
}

function _seconds(d: Date): bigint {
  const ms = d.getTime();
  if (!Number.isFinite(ms)) throw new CertificateError("invalid validity time");
  return ms <= 0 ? 0n : BigInt(Math.floor(ms / 1000));
}

function _time(secs: bigint): string {
  if (secs > MAX_RFC3339) return secs === 0xffffffffffffffffn ? "forever" : "after year 9999";
  return new Date(Number(secs) * 1000).toISOString().replace(".000Z", "Z");
}

/** Cuts untrusted text short for messages, as OpenSSH does with %.100s. */
function _clip(s: string): string {
  return JSON.stringify(s.length > 64 ? s.slice(0, 64) + "…" : s).slice(1, -1);
}

/** The certificate's source-address restriction alone (none: allowed); the API checks it apart to answer 403. */
export function checkCertSourceAddress(cert: SshCertificate, clientAddress: string): CertCheck {
  return _checkSourceAddress(cert.criticalOptions.get("source-address"), clientAddress);
}
