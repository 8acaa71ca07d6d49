// Whether this replica can reach its store, learnt from the watch hub's regular reads
// and from every request: /readyz, API answers (503 with a one-line reason) and the
// change feed (closed while we cannot vouch for it) all follow it.

/** How long without a successful store read before we stop vouching for anything. */
export const FRESH_MS = 5_000;

/** SQLSTATE classes and client codes that mean "the database cannot be reached", not "the query is wrong". */
export function isStoreUnavailable(e: unknown): boolean {
  const err = e as { code?: unknown; errno?: unknown; message?: unknown };
  const code = String(err?.code ?? "");
  const state = String(err?.errno ?? "");
  if (code.startsWith("ERR_POSTGRES_CONNECTION") || code === "ERR_POSTGRES_CONNECTION_CLOSED" || code === "ECONNREFUSED" || code === "ECONNRESET") return true;
  if (/^(08|57P0[1-3]|53300)/.test(state) || /^(08|57P0[1-3]|53300)/.test(code)) return true;
  return /connection (closed|refused|terminated|timeout)|does not allow connections|not currently accepting connections|database system is (starting up|shutting down)|failed to connect/i.test(String(err?.message ?? ""));
}

export class StoreHealth {
  #lastOk = Date.now();
  #reason = "";

  ok(): void {
    this.#lastOk = Date.now();
    this.#reason = "";
  }

  failed(e: unknown): void {
    this.#reason = oneLine(e);
  }

  /** Fresh: a store read succeeded within FRESH_MS. */
  get fresh(): boolean {
    return Date.now() - this.#lastOk <= FRESH_MS && this.#reason === "";
  }

  get reason(): string {
    return `the auth store is unreachable${this.#reason ? `: ${this.#reason}` : ""}`;
  }
}

function oneLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split("\n")[0]!.slice(0, 200);
}
