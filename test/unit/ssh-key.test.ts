// Tests for SSH public keys against real ssh-keygen output: authorized_keys lines, fingerprints,
// signatures (node:crypto-made and ssh-keygen -Y sign), and refusal of malformed input.

import { afterAll, describe, expect, test } from "bun:test";
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ed25519FromPrivate,
  fingerprint,
  formatAuthorizedKey,
  generateEd25519,
  KeyFormatError,
  parseAuthorizedKeyLine,
  parsePublicKeyBlob,
  signEd25519,
  verifySshSignature,
} from "../../src/core/ssh-key.ts";
import { WireReader, WireWriter } from "../../src/core/ssh-wire.ts";

const dir = mkdtempSync(join(tmpdir(), "hostward-ssh-key-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sh(args: string[]): string {
  const p = Bun.spawnSync(args, { cwd: dir, stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${args.join(" ")} failed: ${p.stderr.toString()}`);
  return p.stdout.toString();
}

const KEYGEN: [string, string[]][] = [
  ["ssh-ed25519", ["-t", "ed25519"]],
  ["ecdsa-sha2-nistp256", ["-t", "ecdsa", "-b", "256"]],
  ["ecdsa-sha2-nistp384", ["-t", "ecdsa", "-b", "384"]],
  ["ecdsa-sha2-nistp521", ["-t", "ecdsa", "-b", "521"]],
  ["ssh-rsa", ["-t", "rsa", "-b", "2048"]],
  ["ssh-rsa", ["-t", "rsa", "-b", "1024"]],
];
const keys = KEYGEN.map(([type, args], i) => {
  const name = `key${i}`;
  sh(["ssh-keygen", "-q", ...args, "-N", "", "-C", `user${i}@example with space`, "-f", name]);
  return { type, name, line: readFileSync(join(dir, `${name}.pub`), "utf8") };
});

describe("authorized_keys lines from ssh-keygen", () => {
  for (const { type, name, line } of keys) {
    test(`${name} (${type}) parses, fingerprints and formats back`, () => {
      const key = parseAuthorizedKeyLine(line);
      expect(key.type).toBe(type);
      expect(key.comment).toMatch(/^user\d@example with space$/);
      expect(parsePublicKeyBlob(key.blob)).toEqual({ type, blob: key.blob });
      const printed = sh(["ssh-keygen", "-l", "-E", "sha256", "-f", `${name}.pub`]).split(" ")[1];
      expect(fingerprint(key.blob)).toBe(printed!);
      expect(formatAuthorizedKey(key.type, key.blob, key.comment)).toBe(line.trim());
    });
  }

  test("format without comment", () => {
    const key = parseAuthorizedKeyLine(keys[0]!.line);
    expect(formatAuthorizedKey(key.type, key.blob)).toBe(keys[0]!.line.split(" ").slice(0, 2).join(" "));
  });

  test("format refuses a comment that would start a second line", () => {
    const key = parseAuthorizedKeyLine(keys[0]!.line);
    expect(() => formatAuthorizedKey(key.type, key.blob, "x\nssh-ed25519 AAAA")).toThrow(KeyFormatError);
  });
});

describe("malformed keys", () => {
  const ed = parseAuthorizedKeyLine(keys[0]!.line);
  const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
  const smallRsa = new WireWriter().text("ssh-rsa").mpint(Uint8Array.of(1, 0, 1)).mpint(new Uint8Array(64).fill(0xc3)).finish();
  const rsaE1 = new WireWriter().text("ssh-rsa").mpint(Uint8Array.of(1)).mpint(new Uint8Array(256).fill(0xc3)).finish();
  const paddedRsa = (() => {
    const r = new WireReader(parseAuthorizedKeyLine(keys[4]!.line).blob);
    r.text();
    const e = r.mpint();
    return new WireWriter().text("ssh-rsa").bytes(Uint8Array.of(0, 0, ...e)).raw(r.rest()).finish();
  })();
  const lines: [string, string, string][] = [
    ["empty", "   ", "empty line"],
    ["comment", "# ssh-ed25519 AAAA", "empty line"],
    ["options", `from="10.0.0.1" ${keys[0]!.line}`, "authorized_keys options are not supported"],
    ["unknown type", "ssh-dss AAAA", 'unsupported key type "ssh-dss"'],
    ["type only", "ssh-ed25519", "missing key data"],
    ["bad base64", "ssh-ed25519 AAAA$AAA", "invalid base64 key data"],
    ["non-canonical base64", `ssh-ed25519 ${b64(ed.blob).slice(0, -1)}`, "invalid base64 key data"],
    ["type mismatch", `ecdsa-sha2-nistp256 ${b64(ed.blob)}`, "key type does not match its data"],
    ["truncated blob", `ssh-ed25519 ${b64(ed.blob.subarray(0, 40))}`, "malformed key: unexpected end of data"],
    ["trailing data", `ssh-ed25519 ${b64(Uint8Array.of(...ed.blob, 0))}`, "trailing data after key"],
    ["rsa 512", `ssh-rsa ${b64(smallRsa)}`, "rsa modulus size not allowed"],
    ["rsa e=1", `ssh-rsa ${b64(rsaE1)}`, "bad rsa exponent"],
    ["padded mpint", `ssh-rsa ${b64(paddedRsa)}`, "non-canonical key encoding"],
    ["two lines", `${keys[0]!.line.trim()}\n${keys[1]!.line.trim()}`, "more than one line"],
    ["huge", "ssh-ed25519 " + "A".repeat(70000), "line too long"],
  ];
  for (const [name, line, reason] of lines) {
    test(`line: ${name}`, () => expect(keyErrorOf(() => parseAuthorizedKeyLine(line))).toBe(reason));
  }

  const p256 = parseAuthorizedKeyLine(keys[1]!.line).blob;
  const blobs: [string, Uint8Array][] = [
    ["empty", new Uint8Array(0)],
    ["ed25519 short key", new WireWriter().text("ssh-ed25519").bytes(new Uint8Array(31)).finish()],
    ["ecdsa curve mismatch", new WireWriter().text("ecdsa-sha2-nistp256").text("nistp384").raw(p256.subarray(4 + 19 + 4 + 8)).finish()],
    ["ecdsa compressed point", new WireWriter().text("ecdsa-sha2-nistp256").text("nistp256").bytes(new Uint8Array(33).fill(2)).finish()],
    ["certificate blob", new WireWriter().text("ssh-ed25519-cert-v01@openssh.com").finish()],
    ["invalid UTF-8 type", Uint8Array.of(0, 0, 0, 1, 0xff)],
  ];
  for (const [name, blob] of blobs) test(`blob: ${name}`, () => expect(() => parsePublicKeyBlob(blob)).toThrow(KeyFormatError));

  test("every truncation of every key throws KeyFormatError", () => {
    for (const { line } of keys) {
      const blob = parseAuthorizedKeyLine(line).blob;
      for (let len = 0; len < blob.length; len++) expect(() => parsePublicKeyBlob(blob.subarray(0, len))).toThrow(KeyFormatError);
    }
  });
});

/** The message of the KeyFormatError `fn` throws; fails the test on any other outcome. */
function keyErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KeyFormatError);
    return (e as Error).message;
  }
  throw new Error("did not throw");
}

/** A fresh node:crypto key pair as an SSH public key blob and a private KeyObject. */
function nodeKey(kind: "ed25519" | "p256" | "p384" | "p521" | "rsa") {
  const pair =
    kind === "ed25519" ? generateKeyPairSync("ed25519")
    : kind === "rsa" ? generateKeyPairSync("rsa", { modulusLength: 2048 })
    : generateKeyPairSync("ec", { namedCurve: { p256: "P-256", p384: "P-384", p521: "P-521" }[kind] });
  return { blob: blobOf(pair.publicKey), privateKey: pair.privateKey };
}

function blobOf(pub: KeyObject): Uint8Array {
  const j = pub.export({ format: "jwk" });
  const b = (s: string | undefined) => Buffer.from(s!, "base64url");
  if (j.kty === "OKP") return new WireWriter().text("ssh-ed25519").bytes(b(j.x)).finish();
  if (j.kty === "RSA") return new WireWriter().text("ssh-rsa").mpint(b(j.e)).mpint(b(j.n)).finish();
  const curve = { "P-256": "nistp256", "P-384": "nistp384", "P-521": "nistp521" }[j.crv!]!;
  return new WireWriter().text(`ecdsa-sha2-${curve}`).text(curve).bytes(Buffer.concat([Uint8Array.of(4), b(j.x), b(j.y)])).finish();
}

const wrap = (alg: string, sig: Uint8Array) => new WireWriter().text(alg).bytes(sig).finish();

function ecdsaBody(hash: string, key: KeyObject, data: Uint8Array): Uint8Array {
  const p1363 = sign(hash, data, { key, dsaEncoding: "ieee-p1363" });
  const half = p1363.length / 2;
  return new WireWriter().mpint(p1363.subarray(0, half)).mpint(p1363.subarray(half)).finish();
}

describe("verifySshSignature", () => {
  const data = new TextEncoder().encode("session id and userauth request");
  const other = new TextEncoder().encode("something else");
  const ed = nodeKey("ed25519");
  const rsa = nodeKey("rsa");
  const ecs = (["p256", "p384", "p521"] as const).map((k, i) => ({ key: nodeKey(k), bits: [256, 384, 521][i]!, hash: ["sha256", "sha384", "sha512"][i]! }));

  const good: [string, Uint8Array, Uint8Array][] = [
    ["ed25519 wrapped", ed.blob, wrap("ssh-ed25519", sign(null, data, ed.privateKey))],
    ["ed25519 raw", ed.blob, sign(null, data, ed.privateKey)],
    ["rsa-sha2-256 wrapped", rsa.blob, wrap("rsa-sha2-256", sign("sha256", data, rsa.privateKey))],
    ["rsa-sha2-512 wrapped", rsa.blob, wrap("rsa-sha2-512", sign("sha512", data, rsa.privateKey))],
    ["rsa raw sha256", rsa.blob, sign("sha256", data, rsa.privateKey)],
    ["rsa raw sha512", rsa.blob, sign("sha512", data, rsa.privateKey)],
    ...ecs.flatMap(({ key, bits, hash }): [string, Uint8Array, Uint8Array][] => [
      [`ecdsa ${bits} wrapped`, key.blob, wrap(`ecdsa-sha2-nistp${bits}`, ecdsaBody(hash, key.privateKey, data))],
      [`ecdsa ${bits} raw body`, key.blob, ecdsaBody(hash, key.privateKey, data)],
      [`ecdsa ${bits} raw DER (as ssh2 passes it)`, key.blob, sign(hash, data, key.privateKey)],
    ]),
  ];
  for (const [name, blob, sig] of good) test(`accepts ${name}`, () => expect(verifySshSignature(blob, data, sig)).toBe(true));

  const edSig = wrap("ssh-ed25519", sign(null, data, ed.privateKey));
  const rsaSig = wrap("rsa-sha2-256", sign("sha256", data, rsa.privateKey));
  const p256 = ecs[0]!.key;
  const bad: [string, Uint8Array, Uint8Array, Uint8Array][] = [
    ["wrong data", ed.blob, other, edSig],
    ["wrong key", nodeKey("ed25519").blob, data, edSig],
    ["wrong key type", rsa.blob, data, edSig],
    ["garbage", ed.blob, data, new Uint8Array(64).fill(7)],
    ["empty signature", ed.blob, data, new Uint8Array(0)],
    ["truncated", ed.blob, data, edSig.subarray(0, edSig.length - 1)],
    ["trailing byte", ed.blob, data, Uint8Array.of(...edSig, 0)],
    ["garbage key blob", Uint8Array.of(1, 2, 3), data, edSig],
    ["plain ssh-rsa (SHA-1) refused", rsa.blob, data, wrap("ssh-rsa", sign("sha1", data, rsa.privateKey))],
    ["rsa hash mislabelled", rsa.blob, data, wrap("rsa-sha2-512", sign("sha256", data, rsa.privateKey))],
    ["rsa wrong data", rsa.blob, other, rsaSig],
    ["rsa signature too long", rsa.blob, data, wrap("rsa-sha2-256", new Uint8Array(300).fill(1))],
    ["ecdsa wrong data", p256.blob, other, wrap("ecdsa-sha2-nistp256", ecdsaBody("sha256", p256.privateKey, data))],
    ["ecdsa wrong curve label", p256.blob, data, wrap("ecdsa-sha2-nistp384", ecdsaBody("sha256", p256.privateKey, data))],
    ["ecdsa oversized r", p256.blob, data, wrap("ecdsa-sha2-nistp256", new WireWriter().mpint(new Uint8Array(40).fill(1)).mpint(Uint8Array.of(1)).finish())],
    ["ecdsa bad DER", p256.blob, data, Uint8Array.of(0x30, 0x02, 0x01)],
  ];
  for (const [name, blob, msg, sig] of bad) test(`rejects ${name}`, () => expect(verifySshSignature(blob, msg, sig)).toBe(false));

  test("verifies real ssh-keygen -Y sign signatures (SSHSIG) for every key type", () => {
    writeFileSync(join(dir, "msg"), "hello from ssh-keygen\n");
    for (const { name, line } of keys) {
      sh(["ssh-keygen", "-q", "-Y", "sign", "-f", name, "-n", "file", "msg"]);
      const sshsig = readArmored(readFileSync(join(dir, "msg.sig"), "utf8"));
      rmSync(join(dir, "msg.sig"));
      const key = parseAuthorizedKeyLine(line);
      expect(sshsig.publicKey).toEqual(key.blob);
      const digest = createHash(sshsig.hash).update("hello from ssh-keygen\n").digest();
      const signed = new WireWriter().raw(new TextEncoder().encode("SSHSIG")).text("file").bytes(new Uint8Array(0)).text(sshsig.hash).bytes(digest).finish();
      expect(verifySshSignature(key.blob, signed, sshsig.signature)).toBe(true);
      expect(verifySshSignature(key.blob, signed.subarray(1), sshsig.signature)).toBe(false);
    }
  });
});

/** PROTOCOL.sshsig: "SSHSIG", version, publickey, namespace, reserved, hash_algorithm, signature. */
function readArmored(text: string) {
  const body = Buffer.from(text.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
  const r = new WireReader(body.subarray(6));
  r.u32();
  const publicKey: Uint8Array = r.bytes().slice();
  r.text();
  r.bytes();
  const hash = r.text();
  return { publicKey, hash, signature: r.bytes().slice() };
}

describe("Ed25519 keys of our own", () => {
  test("generate, sign, verify; fingerprint matches ssh-keygen", () => {
    const k = generateEd25519();
    expect(parsePublicKeyBlob(k.publicBlob).type).toBe("ssh-ed25519");
    const sig = signEd25519(k.privateKey, Uint8Array.of(1, 2, 3));
    expect(new WireReader(sig).text()).toBe("ssh-ed25519");
    expect(verifySshSignature(k.publicBlob, Uint8Array.of(1, 2, 3), sig)).toBe(true);
    expect(verifySshSignature(k.publicBlob, Uint8Array.of(1, 2, 4), sig)).toBe(false);
    writeFileSync(join(dir, "own.pub"), formatAuthorizedKey("ssh-ed25519", k.publicBlob, "own") + "\n");
    expect(sh(["ssh-keygen", "-l", "-f", "own.pub"]).split(" ")[1]).toBe(fingerprint(k.publicBlob));
  });

  test("ed25519FromPrivate rebuilds the same public blob", () => {
    const k = generateEd25519();
    const again = ed25519FromPrivate(k.privateKey);
    expect(again.publicBlob).toEqual(k.publicBlob);
    expect(again.publicKey.equals(k.publicKey)).toBe(true);
  });

  test("non-Ed25519 keys are refused", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 });
    expect(() => ed25519FromPrivate(rsa.privateKey)).toThrow(KeyFormatError);
    expect(() => ed25519FromPrivate(generateEd25519().publicKey)).toThrow(KeyFormatError);
    expect(() => signEd25519(rsa.privateKey, Uint8Array.of(1))).toThrow(KeyFormatError);
  });
});
