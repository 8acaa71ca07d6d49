// The auth service's TLS CA and the API server certificate it issues to itself.
// Made on first start under <data_dir>/tls/, private keys 0600, reused after.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../platform/fs-atomic.ts";

x509.cryptoProvider.set(crypto);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;
/**
 * TLS clients check validity on their own clock; a node whose clock is behind must still
 * reach a cluster created minutes ago (then learn the right time from it), so these
 * long-lived certificates start a day early.
 */
const BACKDATE_MS = 24 * 3600 * 1000;

export interface TlsMaterial {
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
}

export async function loadOrCreateTls(dataDir: string, extraNames: string[]): Promise<TlsMaterial> {
  const dir = join(dataDir, "tls");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = { ca: join(dir, "ca.crt"), caKey: join(dir, "ca.key"), cert: join(dir, "server.crt"), key: join(dir, "server.key") };
  if (!existsSync(files.ca)) {
    const ca = await createCa();
    writeFileAtomic(files.caKey, ca.keyPem, 0o600);
    writeFileAtomic(files.ca, ca.certPem, 0o644);
  }
  const caCertPem = readFileSync(files.ca, "utf8");
  const names = serverNames(extraNames);
  if (!existsSync(files.cert) || !coversNames(readFileSync(files.cert, "utf8"), names)) {
    const server = await issueServerCert(caCertPem, readFileSync(files.caKey, "utf8"), names);
    writeFileAtomic(files.key, server.keyPem, 0o600);
    writeFileAtomic(files.cert, server.certPem, 0o644);
  }
  return { caCertPem, serverCertPem: readFileSync(files.cert, "utf8"), serverKeyPem: readFileSync(files.key, "utf8") };
}

async function createCa(): Promise<{ certPem: string; keyPem: string }> {
  const keys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: "CN=hostward cluster CA",
    notBefore: new Date(Date.now() - BACKDATE_MS),
    notAfter: new Date(Date.now() + TEN_YEARS_MS),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await exportPkcs8(keys.privateKey) };
}

async function issueServerCert(caPem: string, caKeyPem: string, names: string[]) {
  const ca = new x509.X509Certificate(caPem);
  const caKey = await crypto.subtle.importKey("pkcs8", pemBody(caKeyPem), ALG, false, ["sign"]);
  const keys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const ips = names.filter(isIp).map((value) => ({ type: "ip" as const, value }));
  const dns = names.filter((n) => !isIp(n)).map((value) => ({ type: "dns" as const, value }));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: "CN=hostward auth",
    issuer: ca.subject,
    notBefore: new Date(Date.now() - BACKDATE_MS),
    notAfter: new Date(Date.now() + TEN_YEARS_MS),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([...dns, ...ips]),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await exportPkcs8(keys.privateKey) };
}

function serverNames(extra: string[]): string[] {
  const names = new Set(["localhost", "127.0.0.1", "::1", hostname(), ...extra]);
  names.delete("0.0.0.0");
  names.delete("::");
  names.delete("");
  return [...names].sort();
}

function coversNames(certPem: string, names: string[]): boolean {
  const san = new x509.X509Certificate(certPem).getExtension(x509.SubjectAlternativeNameExtension);
  const have = new Set(san?.names.items.map((n) => n.value) ?? []);
  return names.every((n) => have.has(n));
}

async function exportPkcs8(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await crypto.subtle.exportKey("pkcs8", key)).toString("base64");
  return `-----BEGIN PRIVATE KEY-----\n${der.match(/.{1,64}/g)!.join("\n")}\n-----END PRIVATE KEY-----\n`;
}

function pemBody(pem: string): Uint8Array {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
}

function randomSerial(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[0] = b[0]! & 0x7f; // positive
  return Buffer.from(b).toString("hex");
}

function isIp(s: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(s) || s.includes(":");
}
