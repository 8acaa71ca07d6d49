// Fans every change of the store out to the agents' WebSockets (the change feed).
// A new watcher gets the changes since its revision, or a snapshot, before any push.
import type { ServerWebSocket } from "bun";
import { toExternal } from "../core/resources.ts";
import type { Change, Store } from "./store.ts";
import type { Logger } from "../platform/logger.ts";

export interface WatchSocketData {
  serverId: string;
  since: number;
}

export type FeedMessage =
  | { type: "snapshot"; rev: number; resources: Record<string, unknown>[]; userCaKeys: string[] }
  | { type: "changes"; rev: number; changes: Change[]; userCaKeys: string[] }
  | { type: "change"; change: Change };

export class WatchHub {
  readonly #sockets = new Set<ServerWebSocket<WatchSocketData>>();

  constructor(private readonly store: Store, private readonly userCaKeys: () => string[], private readonly log: Logger) {}

  get size(): number {
    return this.#sockets.size;
  }

  /** Called synchronously from `open`, so no change can slip between catch-up and push. */
  add(ws: ServerWebSocket<WatchSocketData>): void {
    ws.send(JSON.stringify(this.#catchUp(ws.data.since)));
    this.#sockets.add(ws);
    this.log.debug("watcher connected", { server_id: ws.data.serverId, since: ws.data.since });
  }

  remove(ws: ServerWebSocket<WatchSocketData>): void {
    this.#sockets.delete(ws);
  }

  publish(change: Change): void {
    const msg = JSON.stringify({ type: "change", change } satisfies FeedMessage);
    for (const ws of this.#sockets) ws.send(msg);
  }

  /** Closes the feeds of one node (it was deleted) or of all (shutdown). */
  close(serverId?: string): void {
    for (const ws of this.#sockets) if (serverId === undefined || ws.data.serverId === serverId) ws.close(1000, "closing");
  }

  #catchUp(since: number): FeedMessage {
    const changes = since > 0 ? this.store.changesSince(since) : undefined;
    const rev = this.store.revision();
    if (changes) return { type: "changes", rev, changes, userCaKeys: this.userCaKeys() };
    const resources = (["cluster_config", "role", "user", "lock"] as const)
      .flatMap((kind) => this.store.listResources(kind))
      .map(toExternal);
    return { type: "snapshot", rev, resources, userCaKeys: this.userCaKeys() };
  }
}
