// The web console's sign-in state in the auth store, shared by every replica: one-time
// sign-in links and signed-in browsers, each kept only as a hash of its secret.

export interface SigninLinkRecord {
  /** sha256 of the link's token: a database dump does not give a usable link. */
  hash: string;
  user: string;
  /** The certificate that asked for the link ends then; the browser session may not outlive it. */
  certValidBefore?: Date;
  expiresAt: Date;
}

export type SigninRedeem = { ok: true; user: string; certValidBefore?: Date } | { ok: false; reason: "unknown" | "expired" };

export interface BrowserSessionRecord {
  /** sha256 of the session id (the cookie): a database dump does not give a usable cookie. */
  hash: string;
  user: string;
  expiresAt: Date;
  createdAt: Date;
}

export interface ConsoleStore {
  /** Stores a new link; links expired long enough that nobody will ask about them are pruned. */
  addSigninLink(l: SigninLinkRecord, now: Date): Promise<void>;
  /**
   * Uses the link up whatever the outcome: under concurrent redemption (any replicas)
   * exactly one caller gets ok; a second use is refused like an unknown link.
   */
  redeemSigninLink(hash: string, now: Date): Promise<SigninRedeem>;
  startBrowserSession(s: BrowserSessionRecord): Promise<void>;
  /** The session, unless it is unknown, ended or expired at `now` (an expired one is removed). */
  getBrowserSession(hash: string, now: Date): Promise<BrowserSessionRecord | undefined>;
  /** Sign-out: false when there was no such session. */
  endBrowserSession(hash: string): Promise<boolean>;
  /** Ends every session of a person (locked or removed); returns how many. */
  endBrowserSessionsOf(user: string): Promise<number>;
  /** Removes expired sessions and links; returns how many rows went. */
  pruneConsole(now: Date): Promise<number>;
}

/** How long an expired link is kept so that using it says "expired" rather than "unknown". */
export const EXPIRED_LINK_KEPT_MS = 3600_000;

/** A deleted link row (or none) as the redemption's outcome. */
export function redeemed(row: { user: string; cert_valid_before: number | string | null; expires_at: number | string } | null | undefined, now: Date): SigninRedeem {
  if (!row) return { ok: false, reason: "unknown" };
  if (now.getTime() > Number(row.expires_at)) return { ok: false, reason: "expired" };
  return { ok: true, user: row.user, ...(row.cert_valid_before !== null ? { certValidBefore: new Date(Number(row.cert_valid_before)) } : {}) };
}

export function sessionRecord(r: { hash: string; user: string; expires_at: number | string; created_at: number | string }): BrowserSessionRecord {
  return { hash: r.hash, user: r.user, expiresAt: new Date(Number(r.expires_at)), createdAt: new Date(Number(r.created_at)) };
}
