// The CAs every replica must share: the SSH user and host CAs and the TLS CA that agents
// pin. They live in the store; each replica keeps a copy under its data dir (0600), where
// the CA loaders read them. The first replica to start offers its own; later ones take them.
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../platform/fs-atomic.ts";
import type { Logger } from "../platform/logger.ts";
import { loadOrCreateSshCas } from "./ssh-cas.ts";
import type { Store } from "./store.ts";
import { loadOrCreateTls } from "./tls-ca.ts";

/** Files under the data dir that make up the cluster's identity. */
export const SECRET_FILES = ["ssh/user_ca", "ssh/host_ca", "tls/ca.key", "tls/ca.crt"] as const;

export async function syncClusterSecrets(store: Store, dataDir: string, clusterName: string, log: Logger): Promise<void> {
  let stored = await store.clusterSecrets();
  if (!stored) {
    // Nothing shared yet: make (or keep) this replica's own CAs and offer them.
    loadOrCreateSshCas(dataDir, clusterName);
    await loadOrCreateTls(dataDir, []);
    stored = await store.offerClusterSecrets(readClusterSecrets(dataDir));
  }
  const changed = writeClusterSecrets(dataDir, stored);
  if (changed.length) log.info("took the cluster's CAs from the store", { files: changed });
}

export function readClusterSecrets(dataDir: string): Record<string, string> {
  return Object.fromEntries(SECRET_FILES.filter((f) => existsSync(join(dataDir, f))).map((f) => [f, readFileSync(join(dataDir, f), "utf8")]));
}

/** Writes the files that differ; a new TLS CA also drops this replica's server certificate (it is reissued). */
function writeClusterSecrets(dataDir: string, secrets: Record<string, string>): string[] {
  const changed: string[] = [];
  for (const f of SECRET_FILES) {
    const data = secrets[f];
    const path = join(dataDir, f);
    if (data === undefined || (existsSync(path) && readFileSync(path, "utf8") === data)) continue;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileAtomic(path, data, f.endsWith(".crt") ? 0o644 : 0o600);
    changed.push(f);
  }
  if (changed.includes("tls/ca.crt")) for (const f of ["tls/server.crt", "tls/server.key"]) rmSync(join(dataDir, f), { force: true });
  return changed;
}
