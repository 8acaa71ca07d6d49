// Tells the auth service every few seconds that this node is alive, so `ctl nodes ls`
// shows it online; a refusal (e.g. the node is locked) is logged once per change.
import { HEARTBEAT_INTERVAL_MS } from "../core/heartbeat.ts";
import type { ApiClient } from "../platform/api-client.ts";
import type { NodeHealth } from "../core/node-health.ts";
import type { Logger } from "../platform/logger.ts";

export class Heartbeat {
  #timer?: Timer;
  #lastError = "";
  lastOk?: Date;

  constructor(
    private readonly api: ApiClient, private readonly addr: string, private readonly labels: Record<string, string>, private readonly log: Logger,
    /** What the fleet view shows about this node (build, lock view, backlog, sessions, spool). */
    private readonly health: () => NodeHealth = () => ({}),
  ) {}

  start(): void {
    void this.beat();
    this.#timer = setInterval(() => void this.beat(), HEARTBEAT_INTERVAL_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async beat(): Promise<void> {
    try {
      await this.api.request("POST", "/v1/nodes/heartbeat", { addr: this.addr, labels: this.labels, health: this.health() });
      this.lastOk = new Date();
      if (this.#lastError) this.log.info("heartbeat accepted again");
      this.#lastError = "";
    } catch (e) {
      const msg = (e as Error).message;
      if (msg !== this.#lastError) this.log.warn("heartbeat refused", { error: msg });
      this.#lastError = msg;
    }
  }
}
