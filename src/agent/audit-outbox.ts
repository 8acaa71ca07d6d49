// The agent's audit outbox: events are written to agent.db first and
// shipped to the auth service in batches; delivery is at-least-once and the auth
// store drops duplicates by uid, so an outage or a restart loses none.
import type { Database } from "bun:sqlite";
import { randomUUID } from "node:crypto";
import { ApiError, type ApiClient } from "../platform/api-client.ts";
import { isDiskFull } from "../platform/disk-full.ts";
import type { Logger } from "../platform/logger.ts";

const BATCH = 500;
/** Well under the auth API's 1 MiB body limit, so no batch is refused for its size. */
const BATCH_BYTES = 512 * 1024;
/** Long strings (a command line can be huge) are cut so every event stays under the auth service's 16 KiB. */
const MAX_STRING = 4096;
const IDLE_MS = 1_000;
const RETRY_MAX_MS = 10_000;
/** Events held in memory while agent.db cannot take them (disk full); past this the oldest go. */
const MAX_UNSTORED = 10_000;

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
  /**
   * Rows agent.db could not take (a full disk): kept in memory, written when it can take
   * them again, or sent straight to the auth service meanwhile. Never an exception for
   * the SSH path that emitted them.
   */
  #unstored: string[] = [];
  #dropped = 0;

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
    const rows = all.map((fields) => JSON.stringify({ uid: randomUUID(), time, server_id: this.serverId, proto: "ssh", ...truncated(fields) }));
    if (this.#unstored.length > 0 || !this.#store(rows)) this.#hold(rows);
    this.#soon();
  }

  depth(): number {
    return this.#count() + this.#unstored.length;
  }

  /** Writes rows in one transaction; false (logged) when agent.db cannot take them. */
  #store(rows: string[]): boolean {
    try {
      const insert = this.db.query("INSERT INTO outbox (data) VALUES (?)");
      this.db.transaction(() => {
        for (const r of rows) insert.run(r);
      })();
      return true;
    } catch (e) {
      if (this.#unstored.length === 0) this.log.error(`audit events cannot be written to agent.db${isDiskFull(e) ? " (disk full)" : ""}; holding them in memory`, { error: e as Error });
      return false;
    }
  }

  #hold(rows: string[]): void {
    this.#unstored.push(...rows);
    const over = this.#unstored.length - MAX_UNSTORED;
    if (over <= 0) return;
    this.#unstored.splice(0, over);
    this.#dropped += over;
    this.log.error("audit events lost: agent.db cannot take them and the memory buffer is full", { dropped_total: this.#dropped });
  }

  /** Moves held rows to agent.db once it takes them again (order kept: they go first). */
  #storeHeld(): void {
    if (this.#unstored.length === 0 || !this.#store(this.#unstored)) return;
    this.log.info("agent.db takes audit events again; held events written", { events: this.#unstored.length });
    this.#unstored = [];
  }

  #count(): number {
    try {
      return this.db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM outbox").get()?.n ?? 0;
    } catch {
      return 0;
    }
  }

  start(): void {
    this.#schedule(0);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** Sends everything queued; resolves when the queue is empty or a send (or a delete) failed. */
  async flush(): Promise<boolean> {
    this.#storeHeld();
    for (;;) {
      const rows = this.#nextBatch();
      if (rows.length === 0) return this.#sendHeld();
      try {
        await this.#send(rows);
        // A delete can fail on a full disk too: the batch is sent again later and the
        // auth service keeps each event once (by uid).
        this.db.query("DELETE FROM outbox WHERE seq <= ?").run(rows.at(-1)!.seq);
      } catch (e) {
        this.log.debug("audit events not delivered yet", { error: e as Error, queued: this.depth() });
        return false;
      }
    }
  }

  /** Held rows still not in agent.db go straight to the auth service. */
  async #sendHeld(): Promise<boolean> {
    while (this.#unstored.length > 0) {
      const batch = this.#unstored.slice(0, BATCH);
      try {
        await this.#send(batch.map((data, i) => ({ seq: -1 - i, data })));
      } catch (e) {
        this.log.debug("held audit events not delivered yet", { error: e as Error, held: this.#unstored.length });
        return false;
      }
      this.#unstored.splice(0, batch.length);
    }
    return true;
  }

  #nextBatch(): { seq: number; data: string }[] {
    const rows = this.db.query<{ seq: number; data: string }, [number]>("SELECT seq, data FROM outbox ORDER BY seq LIMIT ?").all(BATCH);
    let bytes = 0;
    const n = rows.findIndex((r) => (bytes += r.data.length) > BATCH_BYTES);
    return n === -1 ? rows : rows.slice(0, Math.max(1, n));
  }

  /**
   * A batch the auth service refuses as malformed is split so one bad event cannot block the rest.
   * Events it refuses one by one (a type nodes may not send) come back in `refused`: set aside too.
   */
  async #send(rows: { seq: number; data: string }[]): Promise<void> {
    let answer: { refused?: { uid: string; error: string }[] } | undefined;
    try {
      answer = await this.api.request("POST", "/v1/events", { events: rows.map((r) => JSON.parse(r.data)) });
    } catch (e) {
      const malformed = e instanceof ApiError && (e.status === 400 || e.status === 413);
      if (!malformed) throw e;
      if (rows.length > 1) {
        const half = Math.ceil(rows.length / 2);
        await this.#send(rows.slice(0, half));
        return this.#send(rows.slice(half));
      }
      return this.#setAside(rows[0]!, (e as Error).message);
    }
    for (const r of Array.isArray(answer?.refused) ? answer.refused : []) {
      const row = rows.find((x) => x.data.includes(`"uid":${JSON.stringify(r.uid)}`));
      if (row) this.#setAside(row, String(r.error));
    }
  }

  #setAside(row: { seq: number; data: string }, error: string): void {
    this.log.error("auth service refused an audit event; set aside in outbox_refused", { seq: row.seq, error, event: row.data.slice(0, 512) });
    try {
      this.db.query("INSERT OR REPLACE INTO outbox_refused (seq, data, error) VALUES (?, ?, ?)").run(row.seq, row.data, error);
    } catch (err) {
      this.log.warn("could not keep a refused audit event in agent.db", { error: err as Error });
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
    const ok = await this.flush().catch((e) => {
      this.log.warn("audit outbox: cannot ship now", { error: e as Error });
      return false;
    });
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
