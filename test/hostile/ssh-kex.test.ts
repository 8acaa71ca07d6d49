// Hostile key exchanges against the compiled agent: malformed post-quantum client keys
// (wrong size, ML-KEM coefficients out of range, a low-order X25519 point) and a client
// asking only for the expensive or weak exchanges. Each is refused during the handshake;
// the agent stays up and serves the next login.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { Client } from "ssh2";
import { registerKexExtension } from "ssh2/lib/protocol/constants.js";
import { MLKEM768X25519_SHA256, type KexExtension } from "../../src/agent/kex-mlkem768x25519.ts";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";

setDefaultTimeout(60_000);

let c: TestCluster;
let a: Agent;
let alice: SshUser;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  a = await c.addAgent();
  await c.createRole("shell", `[allow]\nlogins = ["root"]`);
  alice = await c.addUser("alice", ["shell"]);
  await c.writeKnownHosts();
}, 60_000);

afterAll(() => c.close());

/** Runs a handshake with ssh2 as the client; resolves with how it ended and how long it took. */
function handshake(kex: string[]): Promise<{ outcome: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const conn = new Client();
    const done = (outcome: string) => {
      conn.end();
      resolve({ outcome, ms: performance.now() - t0 });
    };
    conn.on("error", (e: Error) => done(`error: ${e.message}`));
    conn.on("handshake", () => done("handshake"));
    conn.connect({ host: "127.0.0.1", port: a.sshPort, username: "root", readyTimeout: 30_000, hostVerifier: () => true, algorithms: { kex: kex as never } });
  });
}

/** The client side of mlkem768x25519 with its key bytes tampered with. */
function tampered(mutate: (init: Buffer) => Buffer): KexExtension {
  return { ...MLKEM768X25519_SHA256, clientInit: () => {
    const s = MLKEM768X25519_SHA256.clientInit();
    return { ...s, init: mutate(Buffer.from(s.init)) };
  } };
}

async function expectServing(): Promise<void> {
  expect(a.proc.proc.exitCode).toBeNull();
  const r = await c.ssh(a, alice, "root", ["echo still-serving"]);
  expect(r.stdout).toBe("still-serving\n");
}

test.each([
  ["a client key one byte short", (b: Buffer) => b.subarray(1)],
  ["ML-KEM coefficients out of range", (b: Buffer) => b.fill(0xff, 0, 384)],
  ["a low-order X25519 point", (b: Buffer) => b.fill(0, 1184)],
])("%s is refused in the handshake", async (_name, mutate) => {
  registerKexExtension("mlkem768x25519-sha256", tampered(mutate));
  const r = await handshake(["mlkem768x25519-sha256"]);
  expect(r.outcome).not.toBe("handshake");
  await expectServing();
});

test("the untampered client side completes the exchange (the cases above fail for their tampering)", async () => {
  registerKexExtension("mlkem768x25519-sha256", MLKEM768X25519_SHA256);
  expect((await handshake(["mlkem768x25519-sha256"])).outcome).toBe("handshake");
});

test("a client asking only for finite-field DH, NIST curves or SHA-1 is refused at once", async () => {
  const r = await handshake(["diffie-hellman-group18-sha512", "diffie-hellman-group16-sha512", "diffie-hellman-group-exchange-sha256", "ecdh-sha2-nistp521", "diffie-hellman-group14-sha1"]);
  expect(r.outcome).toContain("no matching key exchange");
  expect(r.ms).toBeLessThan(10_000);
  await expectServing();
});
