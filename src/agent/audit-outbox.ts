// The agent's audit outbox: events are written to agent.db first and
// shipped to the auth service in batches; delivery is at-least-once and the auth
// store drops duplicates by uid, so an outage or a restart loses none.
import type { Database } from "bun:sqlite";
import { randomUUID } from "node:crypto";
import { ApiError, type ApiClient } from "../platform/api-client.ts";
import type { Logger } from "../platform/logger.ts";

const BATCH = 500;
/** Well under the auth API's 1 MiB body limit, so no batch is refused for its size. */
const BATCH_BYTES = 512 * 1024;
/** Long strings (a command line can be huge) are cut so every event stays under the auth service's 16 KiB. */
const MAX_STRING = 4096;
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

  constructor(private readonly db: Database, private readonly api: ApiClient, private readonly serverId: string, private readonly log: Logger,
    /** Event times are the auth service's, so events sort where they happened whatever this node's clock says. */
    private readonly now: () => Date = () => new Date()) {
    db.exec("CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL)");
    // Events the auth service refused as malformed: kept for inspection, never retried forever.
    db.exec("CREATE TABLE IF NOT EXISTS outbox_refused (seq INTEGER PRIMARY KEY, data TEXT NOT NULL, error TEXT NOT NULL)");
  }

  emit(fields: AuditFields): void {
    this.emitMany([fields]);
  }

  /** Several events in one transaction: one disk flush however many. */
  emitMany(all: AuditFields[]): void {
    const time = this.now().toISOString();
    const insert = this.db.query("INSERT INTO outbox (data) VALUES (?)");
    this.db.transaction(() => {
      for (const fields of all) insert.run(JSON.stringify({ uid: randomUUID(), time, server_id: this.serverId, proto: "ssh", ...truncated(fields) }));
    })();
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
      const rows = this.#nextBatch();
      if (rows.length === 0) return true;
      try {
        await this.#send(rows);
      } catch (e) {
        this.log.debug("audit events not delivered yet", { error: e as Error, queued: this.depth() });
        return false;
      }
      this.db.query("DELETE FROM outbox WHERE seq <= ?").run(rows.at(-1)!.seq);
    }
  }

  #nextBatch(): { seq: number; data: string }[] {
    const rows = this.db.query<{ seq: number; data: string }, [number]>("SELECT seq, data FROM outbox ORDER BY seq LIMIT ?").all(BATCH);
    let bytes = 0;
    const n = rows.findIndex((r) => (bytes += r.data.length) > BATCH_BYTES);
    return n === -1 ? rows : rows.slice(0, Math.max(1, n));
  }

  /** A batch the auth service refuses as malformed is split so one bad event cannot block the rest. */
  async #send(rows: { seq: number; data: string }[]): Promise<void> {
    try {
      await this.api.request("POST", "/v1/events", { events: rows.map((r) => JSON.parse(r.data)) });
    } catch (e) {
      const malformed = e instanceof ApiError && (e.status === 400 || e.status === 413);
      if (!malformed) throw e;
      if (rows.length > 1) {
        const half = Math.ceil(rows.length / 2);
        await this.#send(rows.slice(0, half));
        return this.#send(rows.slice(half));
      }
      this.log.error("auth service refused an audit event; set aside in outbox_refused", { seq: rows[0]!.seq, error: (e as Error).message });
      this.db.query("INSERT OR REPLACE INTO outbox_refused (seq, data, error) VALUES (?, ?, ?)").run(rows[0]!.seq, rows[0]!.data, (e as Error).message);
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

function truncated(fields: AuditFields): AuditFields {
  const out: AuditFields = { ...fields };
  for (const [k, v] of Object.entries(out)) {
    if (typeof v === "string" && v.length > MAX_STRING) {
      out[k] = v.slice(0, MAX_STRING);
      out[`${k}_truncated`] = true;
    }
  }
  return out;
}
