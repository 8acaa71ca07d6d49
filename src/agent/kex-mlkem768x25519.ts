// mlkem768x25519-sha256 (draft-ietf-sshm-mlkem-hybrid-kex; OpenSSH 9.9+): the hybrid maths
// that ssh2's patched ExtensionExchange (scripts/patch-ssh2.mjs) delegates to.
import { ml_kem768 } from "@noble/post-quantum/ml-kem.js";
import { createHash, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from "node:crypto";

/** What ssh2's ExtensionExchange calls; `secret` is K's bytes, hashed and used as an SSH string. */
export interface KexExtension {
  hashName: string;
  serverReply(clientInit: Uint8Array): { reply: Uint8Array; secret: Uint8Array };
  clientInit(): ClientState;
  clientSecret(state: ClientState, serverReply: Uint8Array): Uint8Array;
}

interface ClientState {
  init: Buffer;
  mlkemSecretKey: Uint8Array;
  x25519Private: KeyObject;
}

const MLKEM768_PUBLIC = 1184;
const MLKEM768_CIPHERTEXT = 1088;
const X25519_BYTES = 32;
// DER SubjectPublicKeyInfo header of an X25519 key; the raw 32 bytes follow it.
const X25519_SPKI_PREFIX = Buffer.from("302a300506032b656e032100", "hex");

function x25519Pair(): { privateKey: KeyObject; publicRaw: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  return { privateKey, publicRaw: publicKey.export({ type: "spki", format: "der" }).subarray(-X25519_BYTES) };
}

/** The raw X25519 shared secret; an all-zero one (a low-order peer key) is refused, as OpenSSH does. */
function x25519Shared(privateKey: KeyObject, peerRaw: Uint8Array): Buffer {
  const publicKey = createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, peerRaw]), format: "der", type: "spki" });
  const shared = diffieHellman({ privateKey, publicKey });
  if (shared.every((b) => b === 0)) throw new Error("X25519 shared secret is zero");
  return shared;
}

/** K = SHA-256(K_PQ || K_CL), both parts wiped once hashed. */
function combine(kpq: Uint8Array, kcl: Uint8Array): Buffer {
  const k = createHash("sha256").update(kpq).update(kcl).digest();
  kpq.fill(0);
  kcl.fill(0);
  return k;
}

export const MLKEM768X25519_SHA256: KexExtension = {
  hashName: "sha256",

  // C_INIT = ML-KEM-768 encapsulation key || X25519 public; S_REPLY = ciphertext || X25519 public.
  serverReply(clientInit) {
    if (clientInit.length !== MLKEM768_PUBLIC + X25519_BYTES) throw new Error(`mlkem768x25519: client key is ${clientInit.length} bytes`);
    // encapsulate checks the key's modulus (FIPS 203 §7.2) and throws on a bad one.
    const { cipherText, sharedSecret } = ml_kem768.encapsulate(clientInit.subarray(0, MLKEM768_PUBLIC));
    const x = x25519Pair();
    const kcl = x25519Shared(x.privateKey, clientInit.subarray(MLKEM768_PUBLIC));
    return { reply: Buffer.concat([cipherText, x.publicRaw]), secret: combine(sharedSecret, kcl) };
  },

  clientInit() {
    const kem = ml_kem768.keygen();
    const x = x25519Pair();
    return { init: Buffer.concat([kem.publicKey, x.publicRaw]), mlkemSecretKey: kem.secretKey, x25519Private: x.privateKey };
  },

  clientSecret(state, serverReply) {
    if (serverReply.length !== MLKEM768_CIPHERTEXT + X25519_BYTES) throw new Error(`mlkem768x25519: server reply is ${serverReply.length} bytes`);
    const kpq = ml_kem768.decapsulate(serverReply.subarray(0, MLKEM768_CIPHERTEXT), state.mlkemSecretKey);
    state.mlkemSecretKey.fill(0);
    return combine(kpq, x25519Shared(state.x25519Private, serverReply.subarray(MLKEM768_CIPHERTEXT)));
  },
};

/**
 * One full exchange in process: fails closed if the two sides disagree, and compiles the
 * ML-KEM code before the first login rather than during it.
 */
export function selfTest(kex: KexExtension = MLKEM768X25519_SHA256): void {
  const client = kex.clientInit();
  const { reply, secret } = kex.serverReply(client.init);
  if (!Buffer.from(kex.clientSecret(client, reply)).equals(Buffer.from(secret))) throw new Error("mlkem768x25519 self-test failed");
}
