// Opens the auth Store named by `[store] url`: sqlite:///path (one replica, the default)
// or postgres://… (any number of replicas on one database).
import type { AuthConfig } from "../core/config.ts";
import { PostgresStore } from "./postgres-store.ts";
import { SqliteStore } from "./sqlite-store.ts";
import type { Store } from "./store.ts";

export type StoreKind = "sqlite" | "postgres";

export function storeKind(url: string): StoreKind {
  return url.startsWith("sqlite://") ? "sqlite" : "postgres";
}

export async function openStore(cfg: Pick<AuthConfig, "store">): Promise<Store> {
  const { url, pool } = cfg.store;
  if (storeKind(url) === "sqlite") return SqliteStore.open(decodeURIComponent(url.slice("sqlite://".length)));
  try {
    return await PostgresStore.open(url, { poolSize: pool });
  } catch (e) {
    throw new Error(`cannot open the PostgreSQL store at ${redactUrl(url)}: ${(e as Error).message}`);
  }
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^(\w+:\/\/[^:@/]*):[^@/]*@/, "$1:***@");
}
