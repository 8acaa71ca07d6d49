// PostgreSQL implementation of the ConsoleStore: every replica reads the same links and
// sessions; single use of a link is one DELETE … RETURNING, so one redeemer wins.
import type { SQL } from "bun";
import { EXPIRED_LINK_KEPT_MS, redeemed, sessionRecord, type BrowserSessionRecord, type ConsoleStore, type SigninLinkRecord, type SigninRedeem } from "./console-store.ts";

export class PostgresConsoleStore implements ConsoleStore {
  constructor(private readonly q: SQL) {}

  async addSigninLink(l: SigninLinkRecord, now: Date): Promise<void> {
    await this.q`DELETE FROM web_signin_links WHERE expires_at < ${now.getTime() - EXPIRED_LINK_KEPT_MS}`;
    await this.q`INSERT INTO web_signin_links (hash, "user", cert_valid_before, expires_at)
      VALUES (${l.hash}, ${l.user}, ${l.certValidBefore?.getTime() ?? null}, ${l.expiresAt.getTime()})`;
  }

  async redeemSigninLink(hash: string, now: Date): Promise<SigninRedeem> {
    // Concurrent redeemers queue on the row; only the first still finds it.
    const [row] = await this.q`DELETE FROM web_signin_links WHERE hash = ${hash} RETURNING "user", cert_valid_before, expires_at`;
    return redeemed(row, now);
  }

  async startBrowserSession(s: BrowserSessionRecord): Promise<void> {
    await this.q`INSERT INTO web_sessions (hash, "user", expires_at, created_at) VALUES (${s.hash}, ${s.user}, ${s.expiresAt.getTime()}, ${s.createdAt.getTime()})`;
  }

  async getBrowserSession(hash: string, now: Date): Promise<BrowserSessionRecord | undefined> {
    const [row] = await this.q`SELECT hash, "user", expires_at, created_at FROM web_sessions WHERE hash = ${hash}`;
    if (!row) return undefined;
    if (Number(row.expires_at) <= now.getTime()) {
      await this.q`DELETE FROM web_sessions WHERE hash = ${hash}`;
      return undefined;
    }
    return sessionRecord(row);
  }

  async endBrowserSession(hash: string): Promise<boolean> {
    return (await this.q`DELETE FROM web_sessions WHERE hash = ${hash} RETURNING 1`).length === 1;
  }

  async endBrowserSessionsOf(user: string): Promise<number> {
    return (await this.q`DELETE FROM web_sessions WHERE "user" = ${user} RETURNING 1`).length;
  }

  async pruneConsole(now: Date): Promise<number> {
    const sessions = await this.q`DELETE FROM web_sessions WHERE expires_at <= ${now.getTime()} RETURNING 1`;
    const links = await this.q`DELETE FROM web_signin_links WHERE expires_at < ${now.getTime() - EXPIRED_LINK_KEPT_MS} RETURNING 1`;
    return sessions.length + links.length;
  }
}
