// A deliberately misbehaving SSH client (ssh2) for inputs OpenSSH refuses to send,
// such as a certificate whose signature no longer verifies.
import { readFileSync } from "node:fs";
import { Client, utils } from "ssh2";

/** Offers `certBlob` as the user's key; resolves with the banner text the server sent. */
export function offerRawCertificate(port: number, keyPath: string, certType: string, certBlob: Uint8Array): Promise<string> {
  const parsed = utils.parseKey(readFileSync(keyPath));
  if (parsed instanceof Error) throw parsed;
  const plain = Array.isArray(parsed) ? parsed[0]! : parsed;
  const key = Object.create(plain, { type: { value: certType }, getPublicSSH: { value: () => Buffer.from(certBlob) } });
  return new Promise((resolve) => {
    const conn = new Client();
    let banner = "";
    conn.on("banner", (msg: string) => (banner += msg));
    conn.on("error", () => resolve(banner));
    conn.on("ready", () => {
      conn.end();
      resolve("ACCEPTED");
    });
    conn.connect({
      host: "127.0.0.1", port, username: "root", readyTimeout: 10_000,
      hostVerifier: () => true,
      authHandler: [{ type: "publickey", username: "root", key } as never],
    });
  });
}
