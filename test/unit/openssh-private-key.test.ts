// Tests for the openssh-key-v1 private key format: our files must satisfy ssh-keygen and ssh2,
// ssh-keygen's files must decode to the same key, and damaged files fail with KeyFormatError.

import { afterAll, describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { utils } from "ssh2";
import { decodeOpenSshPrivateKey, encodeOpenSshPrivateKey } from "../../src/core/openssh-private-key.ts";
import { ed25519FromPrivate, generateEd25519, KeyFormatError, parseAuthorizedKeyLine, verifySshSignature } from "../../src/core/ssh-key.ts";
import { WireReader } from "../../src/core/ssh-wire.ts";

const dir = mkdtempSync(join(tmpdir(), "hostward-openssh-key-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sh(args: string[]): { code: number; out: string; err: string } {
  const p = Bun.spawnSync(args, { cwd: dir, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode ?? -1, out: p.stdout.toString(), err: p.stderr.toString() };
}

function keygen(name: string, args: string[]): string {
  const r = sh(["ssh-keygen", "-q", ...args, "-C", "made by ssh-keygen", "-f", name]);
  if (r.code !== 0) throw new Error(r.err);
  return readFileSync(join(dir, name), "utf8");
}

function writeKey(name: string, pem: string): void {
  writeFileSync(join(dir, name), pem, { mode: 0o600 });
}

/** Base64 body of a PEM, for tests that damage the binary inside. */
function body(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
}

function flip(b: Uint8Array, i: number, mask: number): void {
  b[i] = b[i]! ^ mask;
}

function armor(bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes).toString("base64").match(/.{1,70}/g)?.join("\n") ?? "";
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

describe("encodeOpenSshPrivateKey", () => {
  const k = generateEd25519();
  const pem = encodeOpenSshPrivateKey(k.privateKey, "hostward user CA");

  test("has the OpenSSH armor and 70-column lines", () => {
    const lines = pem.trimEnd().split("\n");
    expect(lines[0]).toBe("-----BEGIN OPENSSH PRIVATE KEY-----");
    expect(lines.at(-1)).toBe("-----END OPENSSH PRIVATE KEY-----");
    expect(lines.slice(1, -1).every((l) => l.length <= 70)).toBe(true);
  });

  test("ssh-keygen -y derives the same public key and comment", () => {
    writeKey("ours", pem);
    const r = sh(["ssh-keygen", "-y", "-f", "ours"]);
    expect(r.code).toBe(0);
    const pub = parseAuthorizedKeyLine(r.out);
    expect(pub.blob).toEqual(k.publicBlob);
    expect(pub.comment).toBe("hostward user CA");
  });

  test("ssh2 utils.parseKey accepts it and signs verifiably", () => {
    const parsed = utils.parseKey(pem);
    if (parsed instanceof Error) throw parsed;
    const key = Array.isArray(parsed) ? parsed[0]! : parsed;
    expect(key.type).toBe("ssh-ed25519");
    expect(key.comment).toBe("hostward user CA");
    expect(new Uint8Array(key.getPublicSSH())).toEqual(k.publicBlob);
    const data = Buffer.from("signed by ssh2");
    expect(verifySshSignature(k.publicBlob, data, key.sign(data))).toBe(true);
  });

  test("round-trips through decode, with any comment", () => {
    for (const comment of ["", "x", "seven c", "ünïcødé comment"]) {
      const back = decodeOpenSshPrivateKey(encodeOpenSshPrivateKey(k.privateKey, comment));
      expect(ed25519FromPrivate(back).publicBlob).toEqual(k.publicBlob);
    }
  });

  test("pads the private section with 1, 2, 3, ... to a multiple of 8", () => {
    const r = new WireReader(body(pem).subarray(15));
    r.text();
    r.text();
    r.bytes();
    r.u32();
    r.bytes();
    const section = r.bytes();
    expect(section.length % 8).toBe(0);
    const s = new WireReader(section);
    expect(s.u32()).toBe(s.u32());
    for (let i = 0; i < 4; i++) s.bytes();
    const padding = [...s.rest()];
    expect(padding).toEqual(padding.map((_, i) => i + 1));
    expect(padding.length).toBeLessThan(8);
  });

  test("refuses a non-Ed25519 key", () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
    expect(() => encodeOpenSshPrivateKey(privateKey, "x")).toThrow(KeyFormatError);
  });
});

describe("decodeOpenSshPrivateKey", () => {
  test("reads ssh-keygen's ed25519 key", () => {
    const pem = keygen("theirs", ["-t", "ed25519", "-N", ""]);
    const pub = parseAuthorizedKeyLine(readFileSync(join(dir, "theirs.pub"), "utf8"));
    expect(ed25519FromPrivate(decodeOpenSshPrivateKey(pem)).publicBlob).toEqual(pub.blob);
  });

  const valid = encodeOpenSshPrivateKey(generateEd25519().privateKey, "c");
  const damaged = (edit: (b: Buffer) => void) => {
    const b = body(valid);
    edit(b);
    return armor(b);
  };
  // Offsets inside our own encoding: magic(15) cipher(8) kdf(8) kdfopts(4) n(4) pub(4+51) section-len(4).
  const SECTION = 15 + 8 + 8 + 4 + 4 + 55 + 4;
  const cases: [string, () => string, string][] = [
    ["encrypted key", () => keygen("enc", ["-t", "ed25519", "-N", "secret pass"]), "encrypted keys are not supported"],
    ["rsa key", () => keygen("rsa", ["-t", "rsa", "-b", "1024", "-N", ""]), "only ed25519 private keys are supported"],
    ["not a PEM", () => "hello", "not an OpenSSH private key"],
    ["PKCS#8 PEM", () => "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", "not an OpenSSH private key"],
    ["bad base64", () => valid.replace(/\n[A-Za-z0-9+/]{4}/, "\n!!!!"), "invalid base64 in private key"],
    ["bad magic", () => damaged((b) => (b[0] = 0x4f)), "not an openssh-key-v1 file"],
    ["check words differ", () => damaged((b) => flip(b, SECTION, 1)), "check words differ (corrupt key)"],
    ["public key mismatch", () => damaged((b) => flip(b, 15 + 8 + 8 + 4 + 4 + 4 + 20, 1)), "public key does not match private key"],
    ["secret mismatch", () => damaged((b) => flip(b, SECTION + 8 + 15 + 36 + 4 + 40, 1)), "ed25519 secret does not contain its public key"],
    ["bad padding", () => damaged((b) => flip(b, b.length - 1, 0x40)), "bad padding"],
    ["trailing data", () => armor(Buffer.concat([body(valid), Buffer.of(0)])), "trailing data after private key"],
    ["two keys", () => damaged((b) => (b[15 + 8 + 8 + 4 + 3] = 2)), "expected exactly one key"],
    ["huge", () => "A".repeat(70000), "private key file too large"],
  ];
  for (const [name, pem, reason] of cases) {
    test(`refuses ${name}`, () => {
      let err: unknown;
      try {
        decodeOpenSshPrivateKey(pem());
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KeyFormatError);
      expect((err as Error).message).toBe(reason);
    });
  }

  test("every truncation and 500 byte flips throw only KeyFormatError", () => {
    const full = body(valid);
    const attempts: Uint8Array[] = [];
    for (let len = 0; len < full.length; len++) attempts.push(full.subarray(0, len));
    let seed = 7;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 500; i++) {
      const b = Buffer.from(full);
      flip(b, rand() % b.length, 1 << (rand() % 8));
      attempts.push(b);
    }
    for (const bytes of attempts) {
      try {
        decodeOpenSshPrivateKey(armor(bytes));
      } catch (e) {
        expect(e).toBeInstanceOf(KeyFormatError);
      }
    }
  });

  test("the offsets the damage cases assume match the encoding", () => {
    const r = new WireReader(body(valid).subarray(SECTION - 4));
    expect(r.u32()).toBe(body(valid).length - SECTION);
  });
});
