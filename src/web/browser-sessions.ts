// Signed-in browsers: an opaque session id (the cookie) mapped to the person and a
// CSRF token, ending no later than the certificate they signed in with. Server-side,
// so signing out (or a lock) ends a session at once.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A console session lasts at most this long, and never past the person's certificate. */
export const MAX_SESSION_MS = 12 * 3600_000;

export interface BrowserSession {
  user: string;
  csrf: string;
  expiresAt: Date;
}

export class BrowserSessions {
  readonly #byHash = new Map<string, BrowserSession>();

  constructor(private readonly now: () => number = Date.now) {}

  start(user: string, certValidBefore?: Date): { id: string; session: BrowserSession } {
    const limit = this.now() + MAX_SESSION_MS;
    const expiresAt = new Date(Math.min(limit, certValidBefore?.getTime() ?? limit));
    const id = randomBytes(32).toString("base64url");
    const session = { user, csrf: randomBytes(32).toString("base64url"), expiresAt };
    this.#byHash.set(hash(id), session);
    return { id, session };
  }

  get(id: string | undefined): BrowserSession | undefined {
    if (!id) return undefined;
    const s = this.#byHash.get(hash(id));
    if (s && s.expiresAt.getTime() <= this.now()) {
      this.#byHash.delete(hash(id));
      return undefined;
    }
    return s;
  }

  end(id: string | undefined): void {
    if (id) this.#byHash.delete(hash(id));
  }

  /** Ends every session of a person (locked or removed). */
  endUser(user: string): number {
    let n = 0;
    for (const [k, s] of this.#byHash) if (s.user === user && this.#byHash.delete(k)) n++;
    return n;
  }
}

export function csrfMatches(session: BrowserSession, given: string | null): boolean {
  if (!given) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function hash(id: string): string {
  return createHash("sha256").update(id).digest("hex");
}
