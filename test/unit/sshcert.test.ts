// Tests for OpenSSH certificates: parsing what ssh-keygen signs (every key and CA type), the
// checkCertificate decision table, our signer judged by `ssh-keygen -L`, and parser fuzzing.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fingerprint, generateEd25519, parseAuthorizedKeyLine, type SshPublicKey } from "../../src/core/ssh-key.ts";
import {
  CertificateError,
  certificateToLine,
  checkCertificate,
  isCertificateType,
  parseCertificate,
  signCertificate,
  type CertificateRequest,
  type CertType,
} from "../../src/core/sshcert.ts";

const dir = mkdtempSync(join(tmpdir(), "hostward-sshcert-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// TZ=UTC: ssh-keygen reads and prints -V times in local time.
function sh(args: string[]): string {
  const p = Bun.spawnSync(args, { cwd: dir, stdout: "pipe", stderr: "pipe", env: { ...process.env, TZ: "UTC" } });
  if (p.exitCode !== 0) throw new Error(`${args.join(" ")} failed: ${p.stderr.toString()}`);
  return p.stdout.toString();
}

function keygen(name: string, args: string[]): SshPublicKey {
  sh(["ssh-keygen", "-q", ...args, "-N", "", "-C", `${name} key`, "-f", name]);
  return parseAuthorizedKeyLine(readFileSync(join(dir, `${name}.pub`), "utf8"));
}

/** Signs `user`.pub with `ca` via ssh-keygen; returns the certificate blob and its file line. */
function sshSign(ca: string, user: string, opts: string[]): { blob: Uint8Array; line: string } {
  sh(["ssh-keygen", "-q", "-s", ca, "-I", "alice@corp", ...opts, `${user}.pub`]);
  const line = readFileSync(join(dir, `${user}-cert.pub`), "utf8").trim();
  return { blob: parseAuthorizedKeyLine(line).blob, line };
}

const CAS = {
  "ca-ed": keygen("ca-ed", ["-t", "ed25519"]),
  "ca-ec": keygen("ca-ec", ["-t", "ecdsa", "-b", "384"]),
  "ca-rsa": keygen("ca-rsa", ["-t", "rsa", "-b", "3072"]),
};
const USERS = {
  "u-ed": keygen("u-ed", ["-t", "ed25519"]),
  "u-p256": keygen("u-p256", ["-t", "ecdsa", "-b", "256"]),
  "u-p384": keygen("u-p384", ["-t", "ecdsa", "-b", "384"]),
  "u-p521": keygen("u-p521", ["-t", "ecdsa", "-b", "521"]),
  "u-rsa": keygen("u-rsa", ["-t", "rsa", "-b", "2048"]),
};
const PERMITS = ["permit-X11-forwarding", "permit-agent-forwarding", "permit-port-forwarding", "permit-pty", "permit-user-rc"];
/** The reason of the CertificateError `fn` throws; fails the test on any other outcome. */
function certErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CertificateError);
    return (e as CertificateError).reason;
  }
  throw new Error("did not throw");
}

const nowSecs = () => BigInt(Math.floor(Date.now() / 1000));

describe("parseCertificate on ssh-keygen certificates", () => {
  for (const [caName, ca] of Object.entries(CAS)) {
    for (const [userName, user] of Object.entries(USERS)) {
      test(`${userName} signed by ${caName}`, () => {
        const { blob, line } = sshSign(caName, userName, ["-n", "alice,root", "-V", "-5m:+1h", "-z", "42"]);
        const cert = parseCertificate(blob);
        expect(cert.type).toBe(`${user.type}-cert-v01@openssh.com`);
        expect(isCertificateType(cert.type)).toBe(true);
        expect(cert.key).toEqual({ type: user.type, blob: user.blob });
        expect(cert.nonce.length).toBe(32);
        expect(cert.serial).toBe(42n);
        expect(cert.certType).toBe("user");
        expect(cert.keyId).toBe("alice@corp");
        expect(cert.principals).toEqual(["alice", "root"]);
        expect(Number(cert.validAfter - (nowSecs() - 300n))).toBeWithin(-60, 1);
        expect(Number(cert.validBefore - (nowSecs() + 3600n))).toBeWithin(-60, 1);
        expect(cert.criticalOptions.size).toBe(0);
        expect(cert.extensions).toEqual(new Map(PERMITS.map((p) => [p, ""])));
        expect(cert.signatureKey).toEqual(ca.blob);
        expect(blob.subarray(0, cert.signedBytes.length)).toEqual(cert.signedBytes);
        expect(certificateToLine(blob, `${userName} key`)).toBe(line);
        expect(checkCertificate(cert, { caKeys: [ca.blob], certType: "user", now: new Date(), principal: "root" })).toEqual({ ok: true });
      });
    }
  }

  test("critical options and extensions are decoded", () => {
    const { blob } = sshSign("ca-ed", "u-p256", [
      "-n", "alice", "-O", "source-address=10.0.0.0/8,2001:db8::/32", "-O", "force-command=echo hi there",
      "-O", "critical:foo", "-O", "critical:bar=baz", "-O", "no-pty", "-O", "extension:roles@hostward=admin,dev",
    ]);
    const cert = parseCertificate(blob);
    expect(cert.criticalOptions).toEqual(new Map([
      ["bar", "baz"], ["foo", ""], ["force-command", "echo hi there"], ["source-address", "10.0.0.0/8,2001:db8::/32"],
    ]));
    expect(cert.extensions.get("roles@hostward")).toBe("admin,dev");
    expect(cert.extensions.has("permit-pty")).toBe(false);
  });

  test("host certificates, empty principals and forever validity", () => {
    const cert = parseCertificate(sshSign("ca-rsa", "u-ed", ["-h", "-V", "always:forever"]).blob);
    expect(cert.certType).toBe("host");
    expect(cert.principals).toEqual([]);
    expect(cert.extensions.size).toBe(0);
    expect(cert.validAfter).toBe(0n);
    expect(cert.validBefore).toBe(0xffffffffffffffffn);
  });

  test("the certified key has the fingerprint ssh-keygen prints for the user key", () => {
    const printed = sh(["ssh-keygen", "-l", "-E", "sha256", "-f", "u-rsa.pub"]).split(" ")[1];
    expect(fingerprint(parseCertificate(sshSign("ca-ed", "u-rsa", []).blob).key.blob)).toBe(printed!);
  });

  test("plain keys and unknown types are refused", () => {
    expect(certErrorOf(() => parseCertificate(USERS["u-ed"].blob))).toBe('unsupported certificate type "ssh-ed25519"');
    expect(isCertificateType("ssh-dss-cert-v01@openssh.com")).toBe(false);
    expect(isCertificateType("ssh-ed25519")).toBe(false);
  });
});

describe("checkCertificate", () => {
  const sign = (opts: string[], ca = "ca-ed") => parseCertificate(sshSign(ca, "u-ed", opts).blob);
  const window = ["-V", "-5m:+1h"];
  const good = sign(["-n", "alice,root", ...window]);
  const flip = (at: (b: Uint8Array) => number) => () => {
    const b = sshSign("ca-ed", "u-ed", ["-n", "alice", ...window]).blob.slice();
    b[at(b)]! ^= 0x01;
    return parseCertificate(b);
  };
  const base = { caKeys: [CAS["ca-ed"].blob], certType: "user" as CertType, now: new Date(), principal: "alice" };
  // Fixed window, so the messages can be compared exactly.
  const fixed = sign(["-n", "alice", "-V", "20300101000000:20300102000000"]);
  const at = (iso: string) => new Date(iso);

  const cases: [string, () => ReturnType<typeof parseCertificate>, Partial<typeof base> & { clientAddress?: string }, string | null][] = [
    ["good", () => good, {}, null],
    ["good without a principal asked", () => good, { principal: undefined }, null],
    ["good, second trusted CA", () => good, { caKeys: [CAS["ca-ec"].blob, CAS["ca-ed"].blob] }, null],
    ["good, RSA CA", () => sign(["-n", "alice", ...window], "ca-rsa"), { caKeys: [CAS["ca-rsa"].blob] }, null],
    ["good, ECDSA CA", () => sign(["-n", "alice", ...window], "ca-ec"), { caKeys: [CAS["ca-ec"].blob] }, null],
    ["wrong CA", () => good, { caKeys: [CAS["ca-ec"].blob] }, "certificate not signed by a trusted CA"],
    ["no trusted CAs", () => good, { caKeys: [] }, "certificate not signed by a trusted CA"],
    ["CA key truncated", () => good, { caKeys: [CAS["ca-ed"].blob.subarray(1)] }, "certificate not signed by a trusted CA"],
    ["tampered nonce", flip(() => 4 + 32 + 4 + 5), {}, "certificate signature does not verify"],
    ["tampered serial", flip(() => 4 + 32 + 4 + 32 + 4 + 32 + 7), {}, "certificate signature does not verify"],
    ["tampered signature", flip((b) => b.length - 5), {}, "certificate signature does not verify"],
    ["host cert, user wanted", () => sign(["-h", "-n", "alice", ...window]), {}, "not a user certificate"],
    ["user cert, host wanted", () => good, { certType: "host" }, "not a host certificate"],
    ["host cert, host wanted", () => sign(["-h", "-n", "alice", ...window]), { certType: "host" }, null],
    ["expired", () => sign(["-n", "alice", "-V", "-2h:-1h"]), {}, "certificate expired: valid until "],
    ["not yet valid", () => sign(["-n", "alice", "-V", "+1h:+2h"]), {}, "certificate not yet valid: valid from "],
    ["first valid second", () => fixed, { now: at("2030-01-01T00:00:00Z") }, null],
    ["last valid second", () => fixed, { now: at("2030-01-01T23:59:59.999Z") }, null],
    ["one second early", () => fixed, { now: at("2029-12-31T23:59:59Z") },
      "certificate not yet valid: valid from 2030-01-01T00:00:00Z, now 2029-12-31T23:59:59Z"],
    ["at valid-before", () => fixed, { now: at("2030-01-02T00:00:00Z") },
      "certificate expired: valid until 2030-01-02T00:00:00Z, now 2030-01-02T00:00:00Z"],
    ["invalid now", () => good, { now: new Date(NaN) }, "invalid current time"],
    ["wrong principal", () => good, { principal: "bob" }, 'login "bob" is not a principal of this certificate'],
    ["principal prefix", () => good, { principal: "ali" }, 'login "ali" is not a principal of this certificate'],
    ["empty principals match nobody", () => sign(window), {}, 'login "alice" is not a principal of this certificate'],
    ["empty principals, empty login", () => sign(window), { principal: "" }, 'login "" is not a principal of this certificate'],
    ["unknown critical option", () => sign(["-n", "alice", "-O", "critical:foo", ...window]), {}, 'unknown critical option "foo"'],
    ["force-command is known", () => sign(["-n", "alice", "-O", "force-command=ls", ...window]), {}, null],
    ...sourceAddressCases(),
    ["expired beats wrong principal", () => sign(["-n", "alice", "-V", "-2h:-1h"]), { principal: "bob" }, "certificate expired: "],
    ["untrusted beats tampered", flip(() => 4 + 32 + 4 + 5), { caKeys: [] }, "certificate not signed by a trusted CA"],
  ];
  function sourceAddressCases(): typeof cases {
    const c = () => sign(["-n", "alice", "-O", "source-address=10.0.0.0/8,2001:db8::/32", ...window]);
    return [
      ["source-address allows", c, { clientAddress: "10.1.2.3" }, null],
      ["source-address allows mapped IPv4", c, { clientAddress: "::ffff:10.1.2.3" }, null],
      ["source-address allows IPv6", c, { clientAddress: "2001:db8::5" }, null],
      ["source-address without client address", c, {}, null],
      ["source-address denies", c, { clientAddress: "192.168.1.1" }, "source address 192.168.1.1 not allowed by certificate"],
      ["source-address denies mapped", c, { clientAddress: "::ffff:192.168.1.1" }, "source address ::ffff:192.168.1.1 not allowed by certificate"],
      ["source-address denies garbage", c, { clientAddress: "not-an-ip" }, "source address not-an-ip not allowed by certificate"],
    ];
  }

  for (const [name, cert, want, reason] of cases) {
    test(name, () => {
      const got = checkCertificate(cert(), { ...base, ...want });
      if (reason === null) expect(got).toEqual({ ok: true });
      else if (got.ok) throw new Error(`accepted, wanted "${reason}"`);
      else expect(got.reason.startsWith(reason)).toBe(true);
    });
  }
});

/** Runs `ssh-keygen -L` (which also verifies the CA signature) and returns its sections. */
function inspect(line: string): Map<string, { value: string; items: string[] }> {
  writeFileSync(join(dir, "inspect-cert.pub"), line + "\n");
  const sections = new Map<string, { value: string; items: string[] }>();
  let current: { value: string; items: string[] } | undefined;
  for (const l of sh(["ssh-keygen", "-L", "-f", "inspect-cert.pub"]).split("\n")) {
    const head = /^ {8}([A-Za-z ]+): ?(.*)$/.exec(l);
    const item = /^ {16}(.*)$/.exec(l);
    if (head) sections.set(head[1]!, (current = { value: head[2]!, items: [] }));
    else if (item && current) current.items.push(item[1]!);
  }
  return sections;
}

describe("signCertificate, judged by ssh-keygen -L", () => {
  const ca = generateEd25519();
  const now = Math.floor(Date.now() / 1000) * 1000;
  const request = (key: SshPublicKey): CertificateRequest => ({
    certType: "user",
    key,
    keyId: "alice",
    principals: ["alice", "root"],
    validAfter: new Date(now - 60_000),
    validBefore: new Date(now + 3_600_000),
    serial: 7n,
    // Deliberately unsorted: the encoder must sort.
    criticalOptions: new Map([["source-address", "10.0.0.0/8,::1"], ["force-command", "/bin/true"]]),
    extensions: new Map([["roles@hostward", "admin,dev"], ...PERMITS.map((p): [string, string] => [p, ""]).reverse()]),
  });

  for (const [userName, user] of Object.entries(USERS)) {
    test(`user certificate for ${userName}`, () => {
      const blob = signCertificate(request(user), ca);
      const out = inspect(certificateToLine(blob, "alice"));
      const stamp = (ms: number) => new Date(ms).toISOString().slice(0, 19);
      expect(out.get("Type")?.value).toBe(`${user.type}-cert-v01@openssh.com user certificate`);
      expect(out.get("Public key")?.value).toEndWith(fingerprint(user.blob));
      expect(out.get("Signing CA")?.value).toBe(`ED25519 ${fingerprint(ca.publicBlob)} (using ssh-ed25519)`);
      expect(out.get("Key ID")?.value).toBe('"alice"');
      expect(out.get("Serial")?.value).toBe("7");
      expect(out.get("Valid")?.value).toBe(`from ${stamp(now - 60_000)} to ${stamp(now + 3_600_000)}`);
      expect(out.get("Principals")?.items).toEqual(["alice", "root"]);
      expect(out.get("Critical Options")?.items).toEqual(["force-command /bin/true", "source-address 10.0.0.0/8,::1"]);
      // "admin,dev" as an SSH string: length 9, then the bytes.
      expect(out.get("Extensions")?.items).toEqual([...PERMITS, "roles@hostward UNKNOWN OPTION: 0000000961646d696e2c646576 (len 13)"]);
      const cert = parseCertificate(blob);
      expect(cert.extensions.get("roles@hostward")).toBe("admin,dev");
      const want = { caKeys: [ca.publicBlob], certType: "user" as const, now: new Date(), principal: "root", clientAddress: "10.9.9.9" };
      expect(checkCertificate(cert, want)).toEqual({ ok: true });
    });
  }

  test("host certificate without options", () => {
    const blob = signCertificate({ ...request(USERS["u-ed"]), certType: "host", criticalOptions: undefined, extensions: undefined }, ca);
    const out = inspect(certificateToLine(blob));
    expect(out.get("Type")?.value).toBe("ssh-ed25519-cert-v01@openssh.com host certificate");
    expect(out.get("Critical Options")?.value).toBe("(none)");
    expect(out.get("Extensions")?.value).toBe("(none)");
  });

  test("ssh-keygen -L rejects our certificate with one signature byte flipped", () => {
    const blob = signCertificate(request(USERS["u-ed"]), ca).slice();
    blob[blob.length - 10]! ^= 1;
    expect(() => inspect(certificateToLine(blob))).toThrow(/incorrect signature/);
  });

  test("each certificate gets a fresh nonce", () => {
    const a = parseCertificate(signCertificate(request(USERS["u-ed"]), ca));
    const b = parseCertificate(signCertificate(request(USERS["u-ed"]), ca));
    expect(a.nonce).not.toEqual(b.nonce);
  });

  const bad: [string, () => unknown, string][] = [
    ["CA key pair mismatch", () => signCertificate(request(USERS["u-ed"]), { ...ca, publicBlob: generateEd25519().publicBlob }), "CA private key does not match its public key"],
    ["key type mismatch", () => signCertificate(request({ ...USERS["u-ed"], type: "ssh-rsa" }), ca), "key type does not match its blob"],
    ["empty window", () => signCertificate({ ...request(USERS["u-ed"]), validBefore: new Date(now - 60_000) }, ca), "validity window is empty"],
    ["invalid date", () => signCertificate({ ...request(USERS["u-ed"]), validAfter: new Date(NaN) }, ca), "invalid validity time"],
    ["too many principals", () => signCertificate({ ...request(USERS["u-ed"]), principals: Array(257).fill("x") }, ca), "too many principals"],
    ["bad serial", () => signCertificate({ ...request(USERS["u-ed"]), serial: -1n }, ca), "cannot sign certificate: u64 out of range"],
    ["certificateToLine on garbage", () => certificateToLine(Uint8Array.of(1, 2)), "malformed certificate: unexpected end of data"],
  ];
  for (const [name, fn, reason] of bad) test(`refuses ${name}`, () => expect(certErrorOf(fn)).toBe(reason));
});

describe("parseCertificate on hostile bytes", () => {
  const samples = {
    "ed25519 CA, ECDSA key, options": sshSign("ca-ed", "u-p521", ["-n", "alice,root", "-O", "source-address=10.0.0.0/8", "-O", "extension:roles@hostward=a"]).blob,
    "RSA CA, RSA key": sshSign("ca-rsa", "u-rsa", ["-n", "alice"]).blob,
  };
  const onlyCertificateErrors = (bytes: Uint8Array, ca: Uint8Array) => {
    try {
      const cert = parseCertificate(bytes);
      // Whatever still parses must not pass the check: every byte is signed or is the signature.
      expect(checkCertificate(cert, { caKeys: [ca], certType: "user", now: new Date(), principal: "alice" }).ok).toBe(false);
    } catch (e) {
      expect(e).toBeInstanceOf(CertificateError);
    }
  };

  for (const [name, blob] of Object.entries(samples)) {
    const ca = parseCertificate(blob).signatureKey;
    test(`${name}: every truncation`, () => {
      for (let len = 0; len < blob.length; len++) expect(() => parseCertificate(blob.subarray(0, len))).toThrow(CertificateError);
    });

    test(`${name}: 2,000 random byte flips`, () => {
      let seed = 20260101;
      const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
      for (let i = 0; i < 2000; i++) {
        const b = blob.slice();
        const i = rand() % b.length;
        b[i] = b[i]! ^ (1 + (rand() % 255));
        onlyCertificateErrors(b, ca);
      }
    });
  }

  test("junk after a valid type name", () => {
    const head = samples["RSA CA, RSA key"].subarray(0, 4 + 28);
    let seed = 99;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 300; i++) {
      const junk = Uint8Array.from({ length: rand() % 200 }, () => rand() & 0xff);
      expect(() => parseCertificate(Uint8Array.of(...head, ...junk))).toThrow(CertificateError);
    }
  });
});
