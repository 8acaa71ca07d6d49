// One-time sign-in links for the web console: made for a person who proved who they
// are with their certificate (`hostward web`), valid 60 s, usable once, on any replica.
import { createHash, randomBytes } from "node:crypto";
import type { ConsoleStore, SigninRedeem } from "../auth/console-store.ts";

export const LINK_TTL_MS = 60_000;

export type Redeemed = SigninRedeem;

export class SigninLinks {
  constructor(private readonly store: ConsoleStore, private readonly now: () => number = Date.now) {}

  async issue(user: string, certValidBefore?: Date): Promise<{ token: string; expiresAt: Date }> {
    const token = randomBytes(32).toString("base64url");
    const now = this.now();
    const expiresAt = new Date(now + LINK_TTL_MS);
    // Kept by its hash only: a database dump or a timing probe does not give a usable link.
    await this.store.addSigninLink({ hash: hash(token), user, expiresAt, ...(certValidBefore ? { certValidBefore } : {}) }, new Date(now));
    return { token, expiresAt };
  }

  /** Uses the token up whatever the outcome: a second use is refused like an unknown one. */
  redeem(token: string): Promise<Redeemed> {
    return this.store.redeemSigninLink(hash(token), new Date(this.now()));
  }
}

function hash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
