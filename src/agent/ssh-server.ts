// The agent's SSH listener: ssh2 with our host certificate and algorithms, and the
// set of live connections that lock enforcement and shutdown walk over.
import { Server, utils, type ParsedKey } from "ssh2";
import type { Logger } from "../platform/logger.ts";
import { SshConnection, type ConnectionEnv } from "./ssh-connection.ts";
import { offerFor, serverAlgorithms } from "./ssh-algorithms.ts";

export interface HostKeyMaterial {
  privateKeyPem: string;
  /** The host certificate blob and its type, e.g. ssh-ed25519-cert-v01@openssh.com. */
  certBlob: Uint8Array;
  certType: string;
}

export class SshServer {
  readonly connections = new Set<SshConnection>();
  #server?: Server;

  constructor(private readonly keys: HostKeyMaterial, private readonly env: Omit<ConnectionEnv, "localAddr">, private readonly log: Logger) {}

  listen(host: string, port: number): Promise<number> {
    const server = new Server({
      // ssh2 reads objects as { key, passphrase }; a parsed key passes through parseKey as is.
      hostKeys: hostKeys(this.keys).map((key) => ({ key })) as never,
      ident: "hostward",
      algorithms: serverAlgorithms() as never,
    }, (client, info) => {
      offerFor(client, info.header.versions.software);
      const conn = new SshConnection(client, { ip: info.ip, port: info.port }, {
        ...this.env,
        localAddr: { ip: host, port },
        events: { ...this.env.events, closed: (c) => { this.connections.delete(c); this.env.events.closed(c); } },
      });
      this.connections.add(conn);
    });
    server.on("error", (e: Error) => this.log.error("ssh server error", { error: e }));
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once("error", (e: Error) => reject(new Error(`cannot listen on ${host}:${port} for SSH: ${e.message}`)));
      server.listen(port, host, () => resolve((server.address() as { port: number }).port));
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server) return resolve();
      this.#server.close(() => resolve());
      for (const c of this.connections) c.close("hostward agent is shutting down");
    });
  }
}

/** The certificate-carrying key object ssh2 offers first, and the plain key behind it. */
function hostKeys(k: HostKeyMaterial): ParsedKey[] {
  const parsed = utils.parseKey(k.privateKeyPem);
  if (parsed instanceof Error) throw new Error(`host key: ${parsed.message}`);
  const plain = Array.isArray(parsed) ? parsed[0]! : parsed;
  const withCert = Object.create(plain, {
    type: { value: k.certType },
    getPublicSSH: { value: () => Buffer.from(k.certBlob) },
    hostwardSignatureType: { value: plain.type },
  });
  return [withCert, plain];
}
