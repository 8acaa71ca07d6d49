// Refuses a request token whose nonce was already used inside its validity window.
// Used nonces live in the auth store, so a restart (or another replica) still sees them.
import type { Store } from "./store.ts";

export class ReplayGuard {
  constructor(private readonly store: Pick<Store, "useNonce">, private readonly windowMs: number) {}

  /** Resolves false when the nonce was already used. */
  check(nonce: string, now: Date): Promise<boolean> {
    // A token is accepted while its iat is within ±window of now, so a nonce must be
    // remembered for two windows from the moment it is first seen.
    return this.store.useNonce(nonce, new Date(now.getTime() + 2 * this.windowMs), now);
  }
}
