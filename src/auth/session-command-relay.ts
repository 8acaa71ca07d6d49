// Gets a session command (terminate) to a node's agent wherever its feed is connected:
// through this replica's hub when it holds the feed, otherwise as a row in the shared
// store that the replica holding the feed claims and sends. The asker waits for the
// claim, so "sent" means one replica wrote it to the agent's feed connection.
import { randomUUID } from "node:crypto";
import type { Logger } from "../platform/logger.ts";
import { liveReplicas } from "./live-replicas.ts";
import type { Store } from "./store.ts";
import type { WatchHub } from "./watch-hub.ts";

/** How long the asker waits for another replica to claim: longer than the 2 s feed poll that covers a lost NOTIFY. */
export const CLAIM_WAIT_MS = 4_000;
/** Between looks at the command's row while waiting (a NOTIFY wakes the asker sooner). */
const LOOK_EVERY_MS = 250;

export type CommandOutcome = { sent: true; via: "this replica" | "another replica" } | { sent: false };

export class SessionCommandRelay {
  readonly #waiters = new Set<() => void>();

  constructor(private readonly store: Store, private readonly hub: WatchHub, private readonly replicaId: string,
    private readonly log: Logger, private readonly now: () => Date = () => new Date()) {}

  /** Asks the node's agent to end session `sid` with `reason`. */
  async terminate(node: string, sid: string, reason: string): Promise<CommandOutcome> {
    if (this.hub.command(node, { type: "terminate", sid, reason }) > 0) return { sent: true, via: "this replica" };
    const now = this.now();
    const others = (await liveReplicas(this.store, now)).filter((r) => r.id !== this.replicaId);
    // Alone (SQLite, or one replica): nobody else can hold the feed, so say so at once.
    if (others.length === 0) return { sent: false };
    const id = randomUUID();
    // Never claimed after the asker stopped waiting, even if the asker dies before it withdraws.
    await this.store.commands.addCommand({ id, node, type: "terminate", sid, reason, createdAt: now, expiresAt: new Date(now.getTime() + CLAIM_WAIT_MS + 1_000) });
    const deadline = Date.now() + CLAIM_WAIT_MS;
    while (Date.now() < deadline) {
      if ((await this.store.commands.commandState(id))?.state === "claimed") return { sent: true, via: "another replica" };
      await this.#woken(Math.min(LOOK_EVERY_MS, deadline - Date.now()));
    }
    // Withdrawn, unless a claim won the race: then it was sent after all.
    return (await this.store.commands.withdrawCommand(id)) === "claimed" ? { sent: true, via: "another replica" } : { sent: false };
  }

  /**
   * Another replica queued or claimed a command: claim those for the feeds this replica
   * holds, send them, and let waiting askers look again. Also run by the feed poll.
   */
  async wake(): Promise<void> {
    for (const w of this.#waiters) w();
    const nodes = this.hub.nodes();
    if (nodes.length === 0) return;
    for (const c of await this.store.commands.claimCommands(nodes, this.replicaId, this.now())) {
      const connections = this.hub.command(c.node, { type: c.type, sid: c.sid, reason: c.reason });
      this.log.info("session command sent for another replica", { command: c.type, sid: c.sid, server_id: c.node, connections });
    }
  }

  #woken(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#waiters.add(done);
    });
  }
}
