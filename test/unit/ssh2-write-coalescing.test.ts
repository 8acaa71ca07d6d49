// The ssh2 output patches (scripts/patch-ssh2.mjs, steps 3, 5, 6 and 7): a server's packets
// of one turn reach the socket in one write from a reused buffer, a channel's writes wait
// while the socket is backed up, channel data under AES-GCM is encrypted without a
// plaintext packet, and a window adjust resumes stdout and stderr alike (stderr that
// waited beside stdout was lost before step 7) — and an SSH client still reads every
// byte of both, in order, intact.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { AddressInfo, Server as NetServer, Socket } from "node:net";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import ssh2 from "ssh2";

const require = createRequire(import.meta.url);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const GCM: ssh2.Algorithms = { cipher: ["aes128-gcm@openssh.com"] };
const BIG = 8 * 1024 * 1024;

function hostKey(): string {
  return ssh2.utils.generateKeyPairSync("ed25519").private;
}

/** Bytes whose value depends on their offset, so a reordered or reused buffer shows. */
function pattern(offset: number, length: number, salt: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = ((offset + i) * 31 + salt + ((offset + i) >>> 13)) & 0xff;
  return b;
}

interface SocketSpy {
  writes: number;
  maxPending: number;
  turnsWithWrites: number;
}

/** Counts the server socket's writes, the turns that wrote, and the most it ever held unsent. */
function spyOn(server: ssh2.Server): SocketSpy {
  const spy: SocketSpy = { writes: 0, maxPending: 0, turnsWithWrites: 0 };
  (server as unknown as { _srv: NetServer })._srv.prependListener("connection", (sock: Socket) => {
    const write = sock.write.bind(sock);
    let inTurn = false;
    sock.write = ((data: Uint8Array, ...rest: unknown[]) => {
      spy.writes++;
      if (!inTurn) {
        inTurn = true;
        spy.turnsWithWrites++;
        setImmediate(() => (inTurn = false));
      }
      const r = (write as (...a: unknown[]) => boolean)(data, ...rest);
      spy.maxPending = Math.max(spy.maxPending, sock.writableLength);
      return r;
    }) as typeof sock.write;
  });
  return spy;
}

async function listen(server: ssh2.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

describe("ssh2 output patches", () => {
  test("the pinned ssh2 carries every step, and the patch script is idempotent", () => {
    expect(readFileSync(require.resolve("ssh2/lib/server.js"), "utf8")).toContain("one socket write per turn (scripts/patch-ssh2.mjs, step 3)");
    expect(readFileSync(require.resolve("ssh2/lib/Channel.js"), "utf8")).toContain("scripts/patch-ssh2.mjs, step 5");
    expect(readFileSync(require.resolve("ssh2/lib/protocol/crypto.js"), "utf8")).toContain("hostwardEncryptData(headerLen, data)");
    const before = readFileSync(require.resolve("ssh2/lib/protocol/Protocol.js"), "utf8");
    const r = spawnSync("node", ["scripts/patch-ssh2.mjs"], { cwd: ROOT, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(readFileSync(require.resolve("ssh2/lib/protocol/Protocol.js"), "utf8")).toBe(before);
  });

  test("a slow client gets 8 MiB of stdout and stderr intact, in far fewer socket writes than packets", async () => {
    let directPackets = 0;
    const sentErr: Buffer[] = [];
    const server = new ssh2.Server({ hostKeys: [hostKey()], algorithms: GCM }, (client) => {
      client.on("authentication", (ctx) => (ctx.method === "none" ? ctx.accept() : ctx.reject()));
      client.on("error", () => {});
      client.on("session", (accept) => {
        accept().on("exec", async (acceptExec) => {
          const ch = acceptExec();
          const cipher = (client as unknown as { _protocol: { _cipher: { hostwardEncryptData: Function } } })._protocol._cipher;
          const direct = cipher.hostwardEncryptData.bind(cipher);
          cipher.hostwardEncryptData = (...a: unknown[]) => { directPackets++; return direct(...a); };
          // Uneven chunk sizes cross packet and buffer boundaries; each write waits for drain.
          for (let off = 0, i = 0; off < BIG; i++) {
            const n = Math.min(BIG - off, 1000 + ((i * 7919) % 90_000));
            const ok = ch.write(pattern(off, n, 1));
            if (i % 50 === 0) {
              sentErr.push(pattern(i, 100, 2));
              ch.stderr.write(sentErr.at(-1)!);
            }
            off += n;
            if (!ok) await new Promise((r) => ch.once("drain", r));
          }
          ch.exit(0);
          ch.end();
        });
      });
    });
    const spy = spyOn(server);
    const port = await listen(server);
    const { out, err } = await new Promise<{ out: Buffer; err: Buffer }>((resolve, reject) => {
      const c = new ssh2.Client();
      c.on("error", reject);
      c.on("ready", () => {
        c.exec("x", (e, stream) => {
          if (e) return reject(e);
          const outs: Buffer[] = [];
          const errs: Buffer[] = [];
          let n = 0;
          stream.on("data", (d: Buffer) => {
            outs.push(d);
            n += d.length;
            // Stop reading for a while twice, so the server's socket backs up.
            if (n > 2 * 1024 * 1024 && n - d.length <= 2 * 1024 * 1024) { stream.pause(); setTimeout(() => stream.resume(), 300); }
            if (n > 5 * 1024 * 1024 && n - d.length <= 5 * 1024 * 1024) { stream.pause(); setTimeout(() => stream.resume(), 300); }
          });
          stream.stderr.on("data", (d: Buffer) => errs.push(d));
          stream.on("close", () => { c.end(); resolve({ out: Buffer.concat(outs), err: Buffer.concat(errs) }); });
        });
      });
      c.connect({ host: "127.0.0.1", port, username: "u", algorithms: GCM, readyTimeout: 10_000 });
    });
    server.close();
    expect(out.length).toBe(BIG);
    expect(out.equals(pattern(0, BIG, 1))).toBe(true);
    expect(sentErr.length).toBeGreaterThan(1);
    expect(err.length).toBe(Buffer.concat(sentErr).length);
    expect(err.equals(Buffer.concat(sentErr))).toBe(true);
    expect(directPackets).toBeGreaterThanOrEqual(BIG / (32 * 1024));
    // Packets of one turn leave together: far fewer writes than packets (3 pieces each before).
    expect(spy.writes).toBeLessThan(directPackets);
  }, 60_000);

  test("a client that stops reading its socket: the server socket holds a turn per channel, not every channel's window", async () => {
    // 8 channels x 2 MiB of window is more than loopback's socket buffers take, so the
    // server's socket backs up; without step 5 each channel would pour its whole window
    // into Bun's queue (about 16 MiB minus what the kernel holds).
    const CHANNELS = 8;
    const EACH = 6 * 1024 * 1024;
    const server = new ssh2.Server({ hostKeys: [hostKey()], algorithms: GCM }, (client) => {
      client.on("authentication", (ctx) => (ctx.method === "none" ? ctx.accept() : ctx.reject()));
      client.on("error", () => {});
      client.on("session", (accept) => {
        accept().on("exec", async (acceptExec, _reject, info) => {
          const ch = acceptExec();
          const salt = Number(info.command);
          for (let off = 0; off < EACH; off += 64 * 1024) {
            if (!ch.write(pattern(off, 64 * 1024, salt))) await new Promise((r) => ch.once("drain", r));
          }
          ch.exit(0);
          ch.end();
        });
      });
    });
    const spy = spyOn(server);
    const port = await listen(server);
    const outs = await new Promise<Buffer[]>((resolve, reject) => {
      const c = new ssh2.Client();
      c.on("error", reject);
      c.on("ready", () => {
        const sock = (c as unknown as { _sock: Socket })._sock;
        // The client stops reading its socket for 2 s once every channel is streaming.
        setTimeout(() => { sock.pause(); setTimeout(() => sock.resume(), 2000); }, 100);
        const got: Buffer[][] = [];
        let closed = 0;
        for (let i = 0; i < CHANNELS; i++) {
          got.push([]);
          c.exec(String(i), (e, stream) => {
            if (e) return reject(e);
            stream.on("data", (d: Buffer) => got[i]!.push(d));
            stream.on("close", () => {
              if (++closed === CHANNELS) { c.end(); resolve(got.map((g) => Buffer.concat(g))); }
            });
          });
        }
      });
      c.connect({ host: "127.0.0.1", port, username: "u", algorithms: GCM, readyTimeout: 10_000 });
    });
    server.close();
    for (let i = 0; i < CHANNELS; i++) expect(outs[i]!.equals(pattern(0, EACH, i))).toBe(true);
    // The socket did back up (the test means something), and held little once it had.
    expect(spy.maxPending).toBeGreaterThan(0);
    expect(spy.maxPending).toBeLessThanOrEqual(2 * 1024 * 1024);
  }, 60_000);

  test("the last packets before end() are not lost (disconnect after a burst)", async () => {
    const server = new ssh2.Server({ hostKeys: [hostKey()], algorithms: GCM }, (client) => {
      client.on("authentication", (ctx) => (ctx.method === "none" ? ctx.accept() : ctx.reject()));
      client.on("error", () => {});
      client.on("session", (accept) => {
        accept().on("exec", (acceptExec) => {
          const ch = acceptExec();
          ch.write(pattern(0, 100_000, 3));
          ch.exit(7);
          ch.end();
          // All of it is still in the turn's buffer when the connection ends.
          client.end();
        });
      });
    });
    const port = await listen(server);
    const got = await new Promise<{ out: Buffer; code: number | undefined }>((resolve, reject) => {
      const c = new ssh2.Client();
      c.on("error", reject);
      c.on("ready", () => {
        c.exec("x", (e, stream) => {
          if (e) return reject(e);
          const outs: Buffer[] = [];
          let code: number | undefined;
          stream.on("data", (d: Buffer) => outs.push(d));
          stream.on("exit", (x: number) => (code = x));
          c.on("close", () => resolve({ out: Buffer.concat(outs), code }));
        });
      });
      c.connect({ host: "127.0.0.1", port, username: "u", algorithms: GCM, readyTimeout: 10_000 });
    });
    server.close();
    expect(got.out.equals(pattern(0, 100_000, 3))).toBe(true);
    expect(got.code).toBe(7);
  }, 30_000);
});
