// Signed-in browsers: an opaque session id (the cookie) whose hash names the person in the
// auth store, ending no later than the certificate they signed in with. In the store, so
// every replica knows the session and signing out (or a lock) ends it on all of them.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { ConsoleStore } from "../auth/console-store.ts";

/** A console session lasts at most this long, and never past the person's certificate. */
export const MAX_SESSION_MS = 12 * 3600_000;

export interface BrowserSession {
  user: string;
  csrf: string;
  expiresAt: Date;
}

export class BrowserSessions {
  constructor(private readonly store: ConsoleStore, private readonly now: () => number = Date.now) {}

  async start(user: string, certValidBefore?: Date): Promise<{ id: string; session: BrowserSession }> {
    const now = this.now();
    const limit = now + MAX_SESSION_MS;
    const expiresAt = new Date(Math.min(limit, certValidBefore?.getTime() ?? limit));
    const id = randomBytes(32).toString("base64url");
    // Sessions that expired unused would otherwise stay until a replica restarts.
    await this.store.pruneConsole(new Date(now));
    await this.store.startBrowserSession({ hash: hash(id), user, expiresAt, createdAt: new Date(now) });
    return { id, session: { user, csrf: csrfOf(id), expiresAt } };
  }

  async get(id: string | undefined): Promise<BrowserSession | undefined> {
    if (!id) return undefined;
    const s = await this.store.getBrowserSession(hash(id), new Date(this.now()));
    return s && { user: s.user, csrf: csrfOf(id), expiresAt: s.expiresAt };
  }

  async end(id: string | undefined): Promise<void> {
    if (id) await this.store.endBrowserSession(hash(id));
  }

  /** Ends every session of a person (locked or removed), on every replica. */
  endUser(user: string): Promise<number> {
    return this.store.endBrowserSessionsOf(user);
  }
}

export function csrfMatches(session: BrowserSession, given: string | null): boolean {
  if (!given) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What the store keeps of a session id. */
function hash(id: string): string {
  return createHash("sha256").update(id).digest("hex");
}

/**
 * The session's CSRF token, derived from its id so no replica has to store it: only a
 * holder of the cookie (our own pages, through /web/me) can compute it, and it differs
 * from the stored hash, so a database dump gives neither the cookie nor the token.
 */
function csrfOf(id: string): string {
  return createHash("sha256").update("hostward web csrf\0").update(id).digest("base64url");
}
