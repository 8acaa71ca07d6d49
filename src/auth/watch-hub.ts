// Fans every change of the store out to the agents' WebSockets (the change feed).
// A new watcher gets the changes since its revision, or a snapshot, before any push.
import type { ServerWebSocket } from "bun";
import { toExternal } from "../core/resources.ts";
import type { Change, Store } from "./store.ts";
import type { Logger } from "../platform/logger.ts";

export interface WatchSocketData {
  serverId: string;
  since: number;
  /** The history hash the agent holds at `since`; changes are sent only when ours agrees. */
  hash?: string;
}

export type FeedMessage =
  | { type: "snapshot"; rev: number; hash: string; resources: Record<string, unknown>[]; userCaKeys: string[] }
  | { type: "changes"; rev: number; hash: string; changes: Change[]; userCaKeys: string[] }
  | { type: "change"; change: Change };

export class WatchHub {
  readonly #sockets = new Set<ServerWebSocket<WatchSocketData>>();

  constructor(private readonly store: Store, private readonly userCaKeys: () => string[], private readonly log: Logger) {}

  get size(): number {
    return this.#sockets.size;
  }

  /** Called synchronously from `open`, so no change can slip between catch-up and push. */
  add(ws: ServerWebSocket<WatchSocketData>): void {
    ws.send(JSON.stringify(this.#catchUp(ws.data)));
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

  /**
   * Changes since the agent's revision only when its history hash there is ours: a
   * bare revision from a restored or diverged store would name other changes.
   */
  #catchUp({ serverId, since, hash }: WatchSocketData): FeedMessage {
    const rev = this.store.revision();
    const head = this.store.historyHash(rev) ?? "";
    const ours = since > 0 ? this.store.historyHash(since) : undefined;
    const changes = ours !== undefined && ours === hash ? this.store.changesSince(since) : undefined;
    if (changes) return { type: "changes", rev, hash: head, changes, userCaKeys: this.userCaKeys() };
    if (since > 0) this.log.info("watcher resumes from a revision we cannot vouch for; sending a snapshot", { server_id: serverId, since, rev, reason: historyMismatch(since, rev, ours, hash) });
    const resources = (["cluster_config", "role", "user", "lock"] as const)
      .flatMap((kind) => this.store.listResources(kind))
      .map(toExternal);
    return { type: "snapshot", rev, hash: head, resources, userCaKeys: this.userCaKeys() };
  }
}

function historyMismatch(since: number, rev: number, ours: string | undefined, theirs: string | undefined): string {
  if (since > rev) return "its revision is ahead of ours (this store was restored or replaced)";
  if (ours === undefined) return "that revision is no longer kept";
  if (theirs === undefined) return "it sent no history hash";
  return "its history differs from ours at that revision (this store was restored or replaced)";
}
