// Speaks to the auth service as an agent does (signed with the node's identity key),
// for tests that exercise node endpoints directly.
import { join } from "node:path";
import { decodeOpenSshPrivateKey } from "../../src/core/openssh-private-key.ts";
import { ApiClient } from "../../src/platform/api-client.ts";
import { readIdentity } from "../../src/platform/identity-file.ts";
import type { Agent } from "./cluster.ts";

export function nodeApi(agent: Agent, authAddr: string): ApiClient {
  const id = readIdentity(join(agent.dir, "identity"));
  return new ApiClient(authAddr, id.caCertPem, { subject: { node: agent.serverId() }, privateKey: decodeOpenSshPrivateKey(id.keyPem) });
}
