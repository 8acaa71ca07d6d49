// The agent's estimate of the auth service's time: every API answer carries it, so the
// agent signs requests, judges lock expiry, certificate validity and view staleness, and
// stamps events on the auth service's time even when its own clock is wrong.
import { skewPhrase } from "../core/request-token.ts";
import type { Logger } from "../platform/logger.ts";
import { ServerClock } from "../platform/server-clock.ts";

/** Past this, the log says the node's clock is off. */
export const CLOCK_WARN_MS = 5_000;
/** Past this, /readyz says so (the agent still works on the auth service's time). */
export const CLOCK_DEGRADED_MS = 60_000;
/** The stored offset is rewritten only when it moved this much (each write is an fsync). */
const SAVE_STEP_MS = 500;

export class AuthClock extends ServerClock {
  #saved: number;
  #warned = false;

  constructor(initialOffsetMs: number, private readonly save: (offsetMs: number) => void, private readonly log: Logger) {
    super(initialOffsetMs);
    this.#saved = initialOffsetMs;
  }

  /** How far the local clock is ahead of the auth service's, in ms (negative: behind). */
  get skewMs(): number {
    return -this.offsetMs;
  }

  override observe(sentAt: number, receivedAt: number, serverMs: number): void {
    super.observe(sentAt, receivedAt, serverMs);
    if (Math.abs(this.offsetMs - this.#saved) >= SAVE_STEP_MS) {
      this.#saved = this.offsetMs;
      this.save(this.offsetMs);
    }
    const off = Math.abs(this.skewMs) > CLOCK_WARN_MS;
    if (off && !this.#warned) {
      this.log.warn(`this node's clock is ${this.#phrase()} the auth service; locks, certificates and events use the auth service's time`, { clock_offset_ms: this.skewMs });
    } else if (!off && this.#warned) {
      this.log.info("this node's clock agrees with the auth service again", { clock_offset_ms: this.skewMs });
    }
    this.#warned = off;
  }

  /** A reason for /readyz when the clock is far off, else undefined. */
  degraded(): string | undefined {
    return Math.abs(this.skewMs) > CLOCK_DEGRADED_MS ? `clock is ${this.#phrase()} the auth service` : undefined;
  }

  #phrase(): string {
    return skewPhrase(Date.now(), this.now());
  }
}
