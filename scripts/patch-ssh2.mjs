// Applies hostward's patches to the pinned ssh2 (run by npm's postinstall). Each is an
// exact anchor replaced once: idempotent, and it fails loudly if ssh2's source changed.
//  1. Host certificates: ssh2 writes the negotiated host-key algorithm as the signature
//     type, which is wrong for certificates ("ssh-ed25519-cert-v01@openssh.com" keys sign
//     as "ssh-ed25519"); a host key object may name its signature type.
//  2. Key exchanges supplied by the program (mlkem768x25519-sha256): ssh2 1.17 has no
//     post-quantum kex. The patch adds only the plumbing — a registry in constants.js and
//     one KeyExchange subclass in kex.js that delegates the maths to the registered object
//     (src/agent/kex-mlkem768x25519.ts) and uses its shared secret as already encoded.
//  3. Write coalescing (throughput): ssh2's server hands the socket 3 buffers per
//     encrypted packet (length, ciphertext, tag), each its own send(2). The socket is
//     corked from the first write of a turn and uncorked when the turn ends
//     (process.nextTick), so all packets of one turn leave in one write. end() flushes
//     corked data first, so a disconnect message is never lost.
//  4. server-sig-algs: ssh2 1.17 lacks a comma ("ecdsa-sha2-nistp521rsa-sha2-512"), so
//     OpenSSH never sees rsa-sha2-512 offered and refuses RSA keys and certificates with
//     "no mutual signature algorithm" when it is the only one it may use.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const lib = (f) => fileURLToPath(new URL(`../node_modules/ssh2/lib/protocol/${f}`, import.meta.url));

const EXTENSION_EXCHANGE = `
  // hostward: a key exchange whose maths the program registered with
  // registerKexExtension (constants.js). The ext's secret is K's bytes as they are: ssh2
  // length-prefixes them for the hash and key derivation, so K is a string, not an mpint.
  class ExtensionExchange extends KeyExchange {
    constructor(ext, ...args) {
      super(...args);
      this.type = 'ext';
      this.hashName = ext.hashName;
      this._ext = ext;
      this._client = null;
    }
    generateKeys() {}
    getPublicKey() {
      if (this._protocol._server)
        return this._public;
      if (!this._client)
        this._client = this._ext.clientInit();
      return this._client.init;
    }
    convertPublicKey(key) {
      return key;
    }
    computeSecret(otherPublicKey) {
      try {
        if (this._protocol._server) {
          const { reply, secret } = this._ext.serverReply(otherPublicKey);
          this._public = Buffer.from(reply);
          return Buffer.from(secret);
        }
        return Buffer.from(this._ext.clientSecret(this._client, otherPublicKey));
      } catch (ex) {
        return ex;
      }
    }
  }

  return (negotiated, ...args) => {
    if (typeof negotiated !== 'object' || negotiated === null)
      throw new Error('Invalid negotiated argument');
    const kexType = negotiated.kex;
    if (typeof kexType === 'string') {
      args = [negotiated, ...args];
      const ext = KEX_EXTENSIONS.get(kexType);
      if (ext)
        return new ExtensionExchange(ext, ...args);
      switch (kexType) {`;

const PATCHES = [
  {
    file: "Protocol.js",
    before: "    'ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521'\n      + 'rsa-sha2-512,",
    after: "    'ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,'\n      + 'rsa-sha2-512,",
  },
  {
    file: "kex.js",
    before: "const sigType = this.negotiated.serverHostKey;",
    after: "const sigType = (this._hostKey.hostwardSignatureType || this.negotiated.serverHostKey);",
  },
  {
    file: "constants.js",
    before: "const SUPPORTED_KEX = DEFAULT_KEX.concat([",
    after: `// hostward: key exchanges whose maths the program supplies (see kex.js).
const KEX_EXTENSIONS = new Map();
function registerKexExtension(name, ext) {
  KEX_EXTENSIONS.set(name, ext);
  if (!SUPPORTED_KEX.includes(name))
    SUPPORTED_KEX.push(name);
}
const SUPPORTED_KEX = DEFAULT_KEX.concat([`,
  },
  {
    file: "constants.js",
    before: "  DEFAULT_KEX,\n  SUPPORTED_KEX,\n",
    after: "  DEFAULT_KEX,\n  SUPPORTED_KEX,\n  KEX_EXTENSIONS,\n  registerKexExtension,\n",
  },
  {
    file: "kex.js",
    before: "  DISCONNECT_REASON,\n  MESSAGE,\n} = require('./constants.js');",
    after: "  DISCONNECT_REASON,\n  KEX_EXTENSIONS,\n  MESSAGE,\n} = require('./constants.js');",
  },
  {
    file: "kex.js",
    before: `
  return (negotiated, ...args) => {
    if (typeof negotiated !== 'object' || negotiated === null)
      throw new Error('Invalid negotiated argument');
    const kexType = negotiated.kex;
    if (typeof kexType === 'string') {
      args = [negotiated, ...args];
      switch (kexType) {`,
    after: EXTENSION_EXCHANGE,
  },
  {
    file: "../server.js",
    before: `      onWrite: (data) => {
        if (isWritable(socket))
          socket.write(data);
      },`,
    after: `      onWrite: (data) => {
        if (isWritable(socket)) {
          // hostward: one socket write per turn (scripts/patch-ssh2.mjs, step 3)
          if (!socket.hostwardCorked) {
            socket.hostwardCorked = true;
            socket.cork();
            process.nextTick(() => {
              socket.hostwardCorked = false;
              socket.uncork();
            });
          }
          socket.write(data);
        }
      },`,
  },
];

let failed = false;
const sources = new Map();
for (const p of PATCHES) {
  const file = lib(p.file);
  const src = sources.get(file) ?? readFileSync(file, "utf8");
  if (src.includes(p.after)) {
    sources.set(file, src);
    continue;
  }
  const at = src.indexOf(p.before);
  if (at < 0 || src.indexOf(p.before, at + 1) >= 0) {
    console.error(`patch-ssh2: ${file}: anchor ${JSON.stringify(p.before.slice(0, 60))} not found exactly once; ssh2 version changed?`);
    failed = true;
    continue;
  }
  sources.set(file, src.replace(p.before, () => p.after));
}
if (failed) process.exit(1);
for (const [file, src] of sources) {
  if (src !== readFileSync(file, "utf8")) writeFileSync(file, src);
}
