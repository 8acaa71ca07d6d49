// The CA pin: the SHA-256 of the TLS CA certificate's SubjectPublicKeyInfo, written
// "sha256:<hex>". Agents and ctl trust an auth service only when its CA matches.
import { nodeCrypto } from "./node-crypto.ts";

const PIN_RE = /^sha256:[0-9a-f]{64}$/;

export function caPinFromPem(pem: string): string {
  const spki = new (nodeCrypto().X509Certificate)(pem).publicKey.export({ type: "spki", format: "der" });
  return "sha256:" + nodeCrypto().createHash("sha256").update(spki).digest("hex");
}

export function isCaPin(s: string): boolean {
  return PIN_RE.test(s);
}

/** Constant-time: a pin is not secret, but a timing oracle on it costs nothing to avoid. */
export function pinMatches(pem: string, pin: string): boolean {
  const got = Buffer.from(caPinFromPem(pem));
  const want = Buffer.from(pin.toLowerCase());
  return got.length === want.length && nodeCrypto().timingSafeEqual(got, want);
}
