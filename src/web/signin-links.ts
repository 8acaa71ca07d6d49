// One-time sign-in links for the web console: made for a person who proved who they
// are with their certificate (`hostward web`), valid 60 s, usable once.
import { createHash, randomBytes } from "node:crypto";

export const LINK_TTL_MS = 60_000;

interface Pending {
  user: string;
  /** The certificate that asked for the link ends then; the browser session may not outlive it. */
  certValidBefore?: Date;
  expiresAt: number;
}

export type Redeemed = { ok: true; user: string; certValidBefore?: Date } | { ok: false; reason: "unknown" | "expired" };

export class SigninLinks {
  // Keyed by the token's hash: a memory dump or a timing probe does not give a usable token.
  readonly #pending = new Map<string, Pending>();

  constructor(private readonly now: () => number = Date.now) {}

  issue(user: string, certValidBefore?: Date): { token: string; expiresAt: Date } {
    this.#sweep();
    const token = randomBytes(32).toString("base64url");
    const expiresAt = this.now() + LINK_TTL_MS;
    this.#pending.set(hash(token), { user, certValidBefore, expiresAt });
    return { token, expiresAt: new Date(expiresAt) };
  }

  /** Uses the token up whatever the outcome: a second use is refused like an unknown one. */
  redeem(token: string): Redeemed {
    const key = hash(token);
    const p = this.#pending.get(key);
    this.#pending.delete(key);
    if (!p) return { ok: false, reason: "unknown" };
    if (this.now() > p.expiresAt) return { ok: false, reason: "expired" };
    return { ok: true, user: p.user, ...(p.certValidBefore ? { certValidBefore: p.certValidBefore } : {}) };
  }

  #sweep(): void {
    const now = this.now();
    for (const [k, p] of this.#pending) if (now > p.expiresAt) this.#pending.delete(k);
  }
}

function hash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
