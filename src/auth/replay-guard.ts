// Remembers the nonces of recently seen request tokens so that a captured token
// cannot be replayed inside its validity window.
export class ReplayGuard {
  readonly #seen = new Map<string, number>();
  #lastSweep = 0;

  constructor(private readonly windowMs: number) {}

  /** Returns false when the nonce was already used. */
  check(nonce: string, nowMs: number): boolean | Promise<boolean> {
    this.#sweep(nowMs);
    if (this.#seen.has(nonce)) return false;
    this.#seen.set(nonce, nowMs + 2 * this.windowMs);
    return true;
  }

  #sweep(nowMs: number): void {
    if (nowMs - this.#lastSweep < 5_000) return;
    this.#lastSweep = nowMs;
    for (const [nonce, until] of this.#seen) if (until < nowMs) this.#seen.delete(nonce);
  }
}
