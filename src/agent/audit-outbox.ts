// The agent's audit outbox (DESIGN §7): events are written to agent.db first and
// shipped to the auth service in batches; delivery is at-least-once and the auth
// store drops duplicates by uid, so an outage or a restart loses none.
import type { Database } from "bun:sqlite";
import { randomUUID } from "node:crypto";
import type { ApiClient } from "../platform/api-client.ts";
import type { Logger } from "../platform/logger.ts";

const BATCH = 500;
const IDLE_MS = 1_000;
const RETRY_MAX_MS = 10_000;

export interface AuditFields {
  event: string;
  code: string;
  [field: string]: unknown;
}

export class AuditOutbox {
  #timer?: Timer;
  #stopped = false;
  #retryMs = IDLE_MS;
  #shipping = false;

  constructor(private readonly db: Database, private readonly api: ApiClient, private readonly serverId: string, private readonly log: Logger) {
    db.exec("CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL)");
  }

  emit(fields: AuditFields): void {
    const e = { uid: randomUUID(), time: new Date().toISOString(), server_id: this.serverId, proto: "ssh", ...fields };
    this.db.query("INSERT INTO outbox (data) VALUES (?)").run(JSON.stringify(e));
    this.#soon();
  }

  depth(): number {
    return this.db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM outbox").get()?.n ?? 0;
  }

  start(): void {
    this.#schedule(0);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** Sends everything queued; resolves when the queue is empty or a send failed. */
  async flush(): Promise<boolean> {
    for (;;) {
      const rows = this.db.query<{ seq: number; data: string }, [number]>("SELECT seq, data FROM outbox ORDER BY seq LIMIT ?").all(BATCH);
      if (rows.length === 0) return true;
      try {
        await this.api.request("POST", "/v1/events", { events: rows.map((r) => JSON.parse(r.data)) });
      } catch (e) {
        this.log.debug("audit events not delivered yet", { error: e as Error, queued: this.depth() });
        return false;
      }
      this.db.query("DELETE FROM outbox WHERE seq <= ?").run(rows.at(-1)!.seq);
    }
  }

  #soon(): void {
    if (!this.#shipping) this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#ship(), ms);
  }

  async #ship(): Promise<void> {
    this.#shipping = true;
    const ok = await this.flush();
    this.#shipping = false;
    this.#retryMs = ok ? IDLE_MS : Math.min(this.#retryMs * 2, RETRY_MAX_MS);
    this.#schedule(this.#retryMs);
  }
}
