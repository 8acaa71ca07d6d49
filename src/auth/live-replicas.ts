// Which auth replicas share this store and are alive: each one heartbeats its row in
// `replicas`; a row not refreshed within REPLICA_LIVE_MS is a replica that is gone.
import type { ReplicaRecord, Store } from "./store.ts";

export const REPLICA_LIVE_MS = 15_000;

export function liveReplicas(store: Store, now: Date): Promise<ReplicaRecord[]> {
  return store.liveReplicas(new Date(now.getTime() - REPLICA_LIVE_MS));
}

/**
 * The addresses an agent can reach the live replicas at, each once, for a join line.
 * A replica that listens on every address without a `public_addr` has none to give.
 */
export async function joinableAddrs(store: Store, now: Date): Promise<string[]> {
  const addrs = (await liveReplicas(store, now)).map((r) => r.addr).filter((a) => !/^(0\.0\.0\.0|\[::\]|::):/.test(a));
  return [...new Set(addrs)].sort();
}
