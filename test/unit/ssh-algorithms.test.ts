// The agent's SSH algorithms: the hybrid kex maths (both sides agree, malformed peer
// values refused) and which clients are offered AES-GCM only.
import { describe, expect, test } from "bun:test";
import { MLKEM768X25519_SHA256 as kex } from "../../src/agent/kex-mlkem768x25519.ts";
import { CIPHERS_ALL, ciphersFor } from "../../src/agent/ssh-algorithms.ts";

describe("mlkem768x25519-sha256", () => {
  test("client and server derive the same 32-byte K; sizes are the draft's", () => {
    const client = kex.clientInit();
    expect(client.init.length).toBe(1184 + 32);
    const { reply, secret } = kex.serverReply(client.init);
    expect(reply.length).toBe(1088 + 32);
    expect(secret.length).toBe(32);
    expect(Buffer.from(kex.clientSecret(client, reply))).toEqual(Buffer.from(secret));
  });

  test("two exchanges never share a secret", () => {
    const a = kex.serverReply(kex.clientInit().init).secret;
    const b = kex.serverReply(kex.clientInit().init).secret;
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  test("a client key of the wrong size is refused", () => {
    expect(() => kex.serverReply(new Uint8Array(1215))).toThrow("client key is 1215 bytes");
  });

  test("an ML-KEM key with coefficients out of range is refused (FIPS 203 modulus check)", () => {
    const init = Buffer.from(kex.clientInit().init);
    init.fill(0xff, 0, 384); // 12-bit coefficients of 4095 > q
    expect(() => kex.serverReply(init)).toThrow(/modulus/);
  });

  test("a low-order X25519 point (all-zero shared secret) is refused", () => {
    const init = Buffer.from(kex.clientInit().init);
    init.fill(0, 1184); // the zero point
    expect(() => kex.serverReply(init)).toThrow();
  });
});

describe("ciphersFor", () => {
  test.each([
    ["OpenSSH_9.2p1 Debian-2+deb12u3", ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com"]],
    ["OpenSSH_for_Windows_9.5", ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com"]],
    ["PuTTY_Release_0.78", ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com"]],
    ["PuTTY_Release_0.75", CIPHERS_ALL],
    ["paramiko_2.12.0", CIPHERS_ALL],
    ["libssh2_1.10.0", CIPHERS_ALL],
    ["", CIPHERS_ALL],
  ])("%p", (software, want) => {
    expect(ciphersFor(software)).toEqual(want);
  });
});
