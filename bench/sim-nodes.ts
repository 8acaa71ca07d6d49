// Simulated agents: each joins the cluster once with its own server UUID and ed25519
// identity key (POST /v1/join, as src/agent does) and then signs its API calls with it.
import { randomUUID } from "node:crypto";
import { formatAuthorizedKey, generateEd25519 } from "../src/core/ssh-key.ts";
import { ApiClient } from "../src/platform/api-client.ts";

export interface SimNode {
  serverId: string;
  api: ApiClient;
}

export async function joinSimNodes(authAddr: string, caCertPem: string, token: string, count: number): Promise<SimNode[]> {
  const anon = new ApiClient(authAddr, caCertPem);
  const nodes: SimNode[] = [];
  for (let i = 0; i < count; i++) {
    const serverId = randomUUID();
    const key = generateEd25519();
    const hostKey = generateEd25519();
    await anon.request("POST", "/v1/join", {
      token, server_id: serverId, hostname: `sim-${i}`, addr: `127.0.0.1:${10_000 + i}`, labels: { sim: "yes" },
      identity_key: formatAuthorizedKey("ssh-ed25519", key.publicBlob, serverId),
      host_key: formatAuthorizedKey("ssh-ed25519", hostKey.publicBlob, serverId), version: "bench",
    });
    nodes.push({ serverId, api: new ApiClient(authAddr, caCertPem, { subject: { node: serverId }, privateKey: key.privateKey }) });
  }
  return nodes;
}
