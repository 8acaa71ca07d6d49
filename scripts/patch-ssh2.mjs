// Applies hostward's patches to the pinned ssh2 (run by npm's postinstall). Each is an
// exact anchor replaced once: idempotent, and it fails loudly if ssh2's source changed.
//  1. Host certificates: ssh2 writes the negotiated host-key algorithm as the signature
//     type, which is wrong for certificates ("ssh-ed25519-cert-v01@openssh.com" keys sign
//     as "ssh-ed25519"); a host key object may name its signature type.
//  2. Key exchanges supplied by the program (mlkem768x25519-sha256): ssh2 1.17 has no
//     post-quantum kex. The patch adds only the plumbing — a registry in constants.js and
//     one KeyExchange subclass in kex.js that delegates the maths to the registered object
//     (src/agent/kex-mlkem768x25519.ts) and uses its shared secret as already encoded.
//  3. One socket write per turn (throughput): ssh2's server hands the socket 3 buffers per
//     encrypted packet (length, ciphertext, tag), each its own write. Every piece of one
//     turn is copied into one connection buffer, written when the turn ends
//     (process.nextTick) or the buffer fills. The buffer is reused when the socket took
//     the write without queueing it (Bun's socket copies what the kernel did not take), so
//     the data path allocates no fresh pages per turn. Whatever is pending is written
//     before the socket's end(), so a disconnect message is never lost.
//  4. server-sig-algs: ssh2 1.17 lacks a comma ("ecdsa-sha2-nistp521rsa-sha2-512"), so
//     OpenSSH never sees rsa-sha2-512 offered and refuses RSA keys and certificates with
//     "no mutual signature algorithm" when it is the only one it may use.
//  5. Socket backpressure: ssh2 writes a channel's data into the socket as long as the
//     client's window allows (2 MiB), so a slow reader made Bun queue and copy megabytes.
//     A server channel's write now completes only once the socket has flushed what it
//     was given: the channel's stream holds later writes (by reference, no copy) and its
//     write() returns false, which is what session-channel.ts waits on.
//  6. Channel data under AES-GCM without a plaintext packet: ssh2 copies the data into a
//     new packet, encrypts it into another and hands the socket three pieces. The header,
//     the data and the padding are now fed to the same node:crypto AES-GCM cipher in turn
//     (one GCM stream per packet, as before; the bytes on the wire are the same), so the
//     data is read once by the cipher and copied once into the turn's buffer. Padding
//     comes from a random pool refilled 4 KiB at a time instead of one randomFillSync per
//     packet. Only when no key exchange is running and compression is off; otherwise
//     ssh2's own path.
//  7. Window adjust resumes stdout and stderr alike: ssh2 resumed only one of a channel's
//     waiting writes (stdout first), so a stderr write that waited for window beside a
//     stdout write never completed (its bytes lost, the session's stderr pump stuck), and
//     a finished write stayed behind as the next "waiting" chunk (it would be sent twice).
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// The patches are written against this ssh2 and no other: a different version fails the
// install even if every anchor happened to match.
const SSH2_VERSION = "1.17.0";
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

// Steps 3 to 7 (the output path). Steps 3 and 5: a server connection's outgoing bytes (inserted before ssh2's Client class).
const SERVER_OUTPUT = `// hostward: a server connection's outgoing bytes (scripts/patch-ssh2.mjs, steps 3 and 5).
// push() copies a piece into the turn's buffer; the turn's bytes go to the socket in one
// write when the turn ends, or earlier when the buffer is full. The buffer is reused
// when the socket took the write without queueing it: Bun's socket copies what the
// kernel did not take at once, so nothing refers to the buffer after write() returns.
// afterFlush(cb) calls cb once the socket has nothing pending (at once when it has
// nothing), so a channel's writes wait for a slow socket instead of filling it.
const HOSTWARD_OUT_MIN = 16 * 1024;
const HOSTWARD_OUT_MAX = 256 * 1024;
function hostwardOutput(socket) {
  let buf;
  let len = 0;
  let scheduled = false;
  let pending = false;
  let waiting = [];
  const released = () => {
    if (pending && socket.writableLength > 0 && !socket.destroyed)
      return;
    pending = false;
    const cbs = waiting;
    waiting = [];
    for (let i = 0; i < cbs.length; ++i)
      cbs[i]();
  };
  const flush = () => {
    scheduled = false;
    if (len === 0)
      return;
    const chunk = buf.subarray(0, len);
    len = 0;
    if (!isWritable(socket))
      return;
    const queued = (socket.writableLength > 0);
    socket.write(chunk, released);
    if (queued)
      buf = undefined;
    if (socket.writableLength > 0)
      pending = true;
  };
  const end = socket.end;
  socket.end = function(...args) {
    flush();
    return end.apply(this, args);
  };
  socket.once('close', () => {
    pending = false;
    released();
  });
  return {
    push(data) {
      const n = data.length;
      if (buf === undefined || len + n > buf.length) {
        // A turn that fills the buffer gets a bigger one next, up to HOSTWARD_OUT_MAX;
        // an interactive connection keeps a small one.
        let size = HOSTWARD_OUT_MIN;
        if (buf !== undefined)
          size = (len > 0 ? Math.min(buf.length * 2, HOSTWARD_OUT_MAX) : buf.length);
        flush();
        size = Math.max(size, n);
        if (buf === undefined || buf.length < size)
          buf = Buffer.allocUnsafe(size);
      }
      buf.set(data, len);
      len += n;
      if (!scheduled) {
        scheduled = true;
        process.nextTick(flush);
      }
    },
    afterFlush(cb) {
      if (pending)
        waiting.push(cb);
      else
        cb();
    },
  };
}
`;

const OUTPUT_STEPS = [
  {
    file: "../server.js",
    before: `      onWrite: (data) => {
        if (isWritable(socket))
          socket.write(data);
      },`,
    after: `      onWrite: (data) => {
        // hostward: one socket write per turn (scripts/patch-ssh2.mjs, step 3)
        if (isWritable(socket))
          out.push(data);
      },`,
  },
  {
    file: "../server.js",
    before: `class Client extends EventEmitter {
  constructor(socket, hostKeys, ident, offer, debug, server, srvCfg) {
    super();
`,
    after: `${SERVER_OUTPUT}
class Client extends EventEmitter {
  constructor(socket, hostKeys, ident, offer, debug, server, srvCfg) {
    super();
    const out = this._hostwardOut = hostwardOutput(socket);
`,
  },
  {
    file: "../Channel.js",
    before: `      this._chunkcb = cb;
      return;
    }

    cb();
  }
`,
    after: `      this._chunkcb = cb;
      return;
    }

    // hostward: done once the socket has flushed it (scripts/patch-ssh2.mjs, step 5)
    if (this._client._hostwardOut)
      this._client._hostwardOut.afterFlush(cb);
    else
      cb();
  }
`,
  },
  {
    file: "../Channel.js",
    before: `      channel._chunkcbErr = cb;
      return;
    }

    cb();
  }
`,
    after: `      channel._chunkcbErr = cb;
      return;
    }

    // hostward: done once the socket has flushed it (scripts/patch-ssh2.mjs, step 5)
    if (channel._client._hostwardOut)
      channel._client._hostwardOut.afterFlush(cb);
    else
      cb();
  }
`,
  },
  {
    file: "Protocol.js",
    before: `  channelData(chan, data) {
    const isBuffer = Buffer.isBuffer(data);
    const dataLen = (isBuffer ? data.length : Buffer.byteLength(data));
`,
    after: `  channelData(chan, data) {
    const isBuffer = Buffer.isBuffer(data);
    const dataLen = (isBuffer ? data.length : Buffer.byteLength(data));
    // hostward: no plaintext packet under AES-GCM (scripts/patch-ssh2.mjs, step 6)
    if (isBuffer && hostwardDirect(this)) {
      const header = this._cipher.hostwardHeader;
      header[1] = MESSAGE.CHANNEL_DATA;
      writeUInt32BE(header, chan, 2);
      writeUInt32BE(header, dataLen, 6);
      this._debug && this._debug(
        \`Outbound: Sending CHANNEL_DATA (r:\${chan}, \${dataLen})\`
      );
      this._cipher.hostwardEncryptData(9, data);
      return;
    }
`,
  },
  {
    file: "Protocol.js",
    before: `  channelExtData(chan, data, type) {
    const isBuffer = Buffer.isBuffer(data);
    const dataLen = (isBuffer ? data.length : Buffer.byteLength(data));
`,
    after: `  channelExtData(chan, data, type) {
    const isBuffer = Buffer.isBuffer(data);
    const dataLen = (isBuffer ? data.length : Buffer.byteLength(data));
    // hostward: no plaintext packet under AES-GCM (scripts/patch-ssh2.mjs, step 6)
    if (isBuffer && hostwardDirect(this)) {
      const header = this._cipher.hostwardHeader;
      header[1] = MESSAGE.CHANNEL_EXTENDED_DATA;
      writeUInt32BE(header, chan, 2);
      writeUInt32BE(header, type, 6);
      writeUInt32BE(header, dataLen, 10);
      this._debug
        && this._debug(\`Outbound: Sending CHANNEL_EXTENDED_DATA (r:\${chan})\`);
      this._cipher.hostwardEncryptData(13, data);
      return;
    }
`,
  },
  {
    file: "Protocol.js",
    before: `class Protocol {
`,
    after: `// hostward: whether channel data may skip the plaintext packet (scripts/patch-ssh2.mjs,
// step 6): the cipher can, no key exchange holds packets back, and nothing compresses.
function hostwardDirect(proto) {
  return proto._kexinit === undefined
         && proto._cipher.hostwardEncryptData !== undefined
         && proto._packetRW.write.constructor === PacketWriter;
}

class Protocol {
`,
  },
  {
    file: "crypto.js",
    before: `    this._encIV = enc.cipherIV;
    this._dead = false;
  }
  free() {
    this._dead = true;
  }
  allocPacket(payloadLen) {
    let pktLen = 4 + 1 + payloadLen;
    let padLen = 16 - ((pktLen - 4) & (16 - 1));
    if (padLen < 4)
      padLen += 16;
    pktLen += padLen;

    const packet = Buffer.allocUnsafe(pktLen);
`,
    after: `    this._encIV = enc.cipherIV;
    this._dead = false;
    // hostward: scripts/patch-ssh2.mjs, step 6
    this.hostwardHeader = Buffer.alloc(14);
    this._hostwardRandom = Buffer.allocUnsafe(4096);
    this._hostwardRandomAt = 4096;
  }
  free() {
    this._dead = true;
  }
  // hostward: encrypts one packet whose payload is hostwardHeader[1, 1 + headerLen) and
  // then data, without assembling it (scripts/patch-ssh2.mjs, step 6). The GCM stream
  // sees exactly the bytes encrypt() would: padding length, payload, padding.
  hostwardEncryptData(headerLen, data) {
    if (this._dead)
      return;
    let pktLen = 4 + 1 + headerLen + data.length;
    let padLen = 16 - ((pktLen - 4) & (16 - 1));
    if (padLen < 4)
      padLen += 16;
    pktLen += padLen;
    if (this._hostwardRandomAt + padLen > this._hostwardRandom.length) {
      randomFillSync(this._hostwardRandom);
      this._hostwardRandomAt = 0;
    }
    const at = this._hostwardRandomAt;
    const padding = this._hostwardRandom.subarray(at, at + padLen);
    this._hostwardRandomAt = at + padLen;

    const lenData = Buffer.allocUnsafe(4);
    writeUInt32BE(lenData, pktLen - 4, 0);
    const header = this.hostwardHeader;
    header[0] = padLen;

    const cipher = createCipheriv(this._encSSLName, this._encKey, this._encIV);
    cipher.setAutoPadding(false);
    cipher.setAAD(lenData);
    this._onWrite(lenData);
    this._onWrite(cipher.update(header.subarray(0, 1 + headerLen)));
    this._onWrite(cipher.update(data));
    this._onWrite(cipher.update(padding));
    const final = cipher.final();
    if (final.length)
      this._onWrite(final);
    this._onWrite(cipher.getAuthTag());

    ivIncrement(this._encIV);
    this.outSeqno = (this.outSeqno + 1) >>> 0;
  }
  allocPacket(payloadLen) {
    let pktLen = 4 + 1 + payloadLen;
    let padLen = 16 - ((pktLen - 4) & (16 - 1));
    if (padLen < 4)
      padLen += 16;
    pktLen += padLen;

    const packet = Buffer.allocUnsafe(pktLen);
`,
  },
  {
    file: "../server.js",
    before: `          if (channel._waitWindow) {
            channel._waitWindow = false;

            if (channel._chunk) {
              channel._write(channel._chunk, null, channel._chunkcb);
            } else if (channel._chunkcb) {
              channel._chunkcb();
            } else if (channel._chunkErr) {
              channel.stderr._write(channel._chunkErr,
                                    null,
                                    channel._chunkcbErr);
            } else if (channel._chunkcbErr) {
              channel._chunkcbErr();
            }
          }`,
    after: `          if (channel._waitWindow) {
            channel._waitWindow = false;
            // hostward: both streams resume (scripts/patch-ssh2.mjs, step 7)
            const chunk = channel._chunk;
            const cb = channel._chunkcb;
            const chunkErr = channel._chunkErr;
            const cbErr = channel._chunkcbErr;
            channel._chunk = channel._chunkcb = undefined;
            channel._chunkErr = channel._chunkcbErr = undefined;
            if (chunk)
              channel._write(chunk, null, cb);
            else if (cb)
              cb();
            if (chunkErr)
              channel.stderr._write(chunkErr, null, cbErr);
            else if (cbErr)
              cbErr();
          }`,
  },
];

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
  ...OUTPUT_STEPS,
];

const pkg = JSON.parse(readFileSync(fileURLToPath(new URL("../node_modules/ssh2/package.json", import.meta.url)), "utf8"));
if (pkg.version !== SSH2_VERSION) {
  console.error(`patch-ssh2: node_modules/ssh2 is ${pkg.version}; the patches are for ${SSH2_VERSION} (package.json pins it)`);
  process.exit(1);
}

// Patches an earlier version of this script applied, undone first, so `npm install` in a
// checkout whose node_modules already has them (ssh2 unchanged, so not reinstalled) works.
const SUPERSEDED = [
  {
    file: "../server.js",
    patched: `      onWrite: (data) => {
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
    original: `      onWrite: (data) => {
        if (isWritable(socket))
          socket.write(data);
      },`,
  },
];

let failed = false;
const sources = new Map();
for (const old of SUPERSEDED) {
  const file = lib(old.file);
  const src = sources.get(file) ?? readFileSync(file, "utf8");
  sources.set(file, src.includes(old.patched) ? src.replace(old.patched, () => old.original) : src);
}
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
