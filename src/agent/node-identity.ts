// The node's identity on disk: server UUID (<data_dir>/host_uuid), the identity key
// that signs API calls, the SSH host key and certificate. Joining makes them once;
// later starts reuse them, so a restart needs no token.
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { AgentConfig } from "../core/config.ts";
import { formatHostPort } from "../core/host-port.ts";
import { decodeOpenSshPrivateKey, encodeOpenSshPrivateKey } from "../core/openssh-private-key.ts";
import { ed25519FromPrivate, formatAuthorizedKey, generateEd25519 } from "../core/ssh-key.ts";
import { ApiClient, fetchPinnedCa } from "../platform/api-client.ts";
import { writeFileAtomic } from "../platform/fs-atomic.ts";
import { advertiseAddr } from "./advertise-addr.ts";
import { readIdentity, writeIdentity, type Identity } from "../platform/identity-file.ts";
import { VERSION } from "../platform/version.ts";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface NodeIdentity {
  serverId: string;
  identity: Identity;
  hostKeyPem: string;
  hostKeyLine: string;
  api: ApiClient;
}

export function loadServerId(dataDir: string): string {
  const path = join(dataDir, "host_uuid");
  if (!existsSync(path)) writeFileAtomic(path, randomUUID() + "\n", 0o644);
  const id = readFileSync(path, "utf8").trim();
  if (!UUID_RE.test(id)) throw new Error(`${path}: not a UUID: ${JSON.stringify(id.slice(0, 60))}`);
  return id;
}

/** Loads the saved identity, or joins the cluster with the configured token and pin. */
export async function loadOrJoin(cfg: AgentConfig): Promise<NodeIdentity> {
  mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  const serverId = loadServerId(cfg.dataDir);
  const hostKeyPem = loadOrCreateKey(join(cfg.dataDir, "host_key"), `hostward host ${serverId}`);
  const hostKeyLine = publicLine(hostKeyPem, serverId);
  const idPath = join(cfg.dataDir, "identity");
  const identity = existsSync(idPath) ? readIdentity(idPath) : await join_(cfg, serverId, hostKeyLine, idPath);
  if (identity.serverId !== serverId) throw new Error(`${idPath}: belongs to server ${identity.serverId}, not ${serverId}`);
  if (cfg.caPin && identity.caPin !== cfg.caPin) throw new Error(`${idPath}: joined with CA pin ${identity.caPin}, config says ${cfg.caPin}; remove the identity file to join again`);
  const key = decodeOpenSshPrivateKey(identity.keyPem);
  // auth_servers in agent.toml (several replicas) win over the address the node joined through.
  const servers = cfg.authServers?.map(formatHostPort) ?? [identity.authServer];
  const api = new ApiClient(servers, identity.caCertPem, { subject: { node: serverId }, privateKey: key });
  return { serverId, identity, hostKeyPem, hostKeyLine, api };
}

async function join_(cfg: AgentConfig, serverId: string, hostKeyLine: string, idPath: string): Promise<Identity> {
  if (!cfg.joinToken) throw new Error("not joined yet and no join_token configured: get one with `hostward ctl tokens add`");
  if (!cfg.caPin) throw new Error("not joined yet and no ca_pin configured: `hostward ctl status` prints it");
  const authServer = formatHostPort(cfg.authServer);
  const caCertPem = await fetchPinnedCa(authServer, cfg.caPin);
  const key = generateEd25519();
  const api = new ApiClient(authServer, caCertPem);
  const res = await api.request<{ host_cert: string }>("POST", "/v1/join", {
    token: cfg.joinToken,
    server_id: serverId,
    hostname: hostname(),
    addr: advertiseAddr(cfg.ssh.advertiseAddr, cfg.ssh.listen),
    labels: cfg.ssh.labels,
    identity_key: formatAuthorizedKey("ssh-ed25519", key.publicBlob, serverId),
    host_key: hostKeyLine,
    version: VERSION,
  });
  const identity: Identity = { authServer, caPin: cfg.caPin, caCertPem, keyPem: encodeOpenSshPrivateKey(key.privateKey, serverId), serverId };
  writeIdentity(idPath, identity);
  writeFileAtomic(join(cfg.dataDir, "host_cert.pub"), res.host_cert + "\n", 0o644);
  return identity;
}

function loadOrCreateKey(path: string, comment: string): string {
  if (!existsSync(path)) writeFileAtomic(path, encodeOpenSshPrivateKey(generateEd25519().privateKey, comment), 0o600);
  return readFileSync(path, "utf8");
}

function publicLine(pem: string, comment: string): string {
  return formatAuthorizedKey("ssh-ed25519", ed25519FromPrivate(decodeOpenSshPrivateKey(pem)).publicBlob, comment);
}
