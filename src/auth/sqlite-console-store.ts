// SQLite implementation of the ConsoleStore: sign-in links and browser sessions by hash.
import type { Database } from "bun:sqlite";
import { EXPIRED_LINK_KEPT_MS, redeemed, sessionRecord, type BrowserSessionRecord, type ConsoleStore, type SigninLinkRecord, type SigninRedeem } from "./console-store.ts";
import type { SqliteGate } from "./sqlite-gate.ts";

interface SessionRow { hash: string; user: string; expires_at: number; created_at: number }

export class SqliteConsoleStore implements ConsoleStore {
  constructor(private readonly db: Database, private readonly gate: SqliteGate) {}

  addSigninLink(l: SigninLinkRecord, now: Date): Promise<void> {
    return this.gate(() => {
      this.db.query("DELETE FROM web_signin_links WHERE expires_at < ?").run(now.getTime() - EXPIRED_LINK_KEPT_MS);
      this.db.query("INSERT INTO web_signin_links (hash, user, cert_valid_before, expires_at) VALUES (?, ?, ?, ?)")
        .run(l.hash, l.user, l.certValidBefore?.getTime() ?? null, l.expiresAt.getTime());
    });
  }

  redeemSigninLink(hash: string, now: Date): Promise<SigninRedeem> {
    return this.gate(() => {
      // DELETE … RETURNING: the one statement that reads the link also uses it up.
      const row = this.db.query<{ user: string; cert_valid_before: number | null; expires_at: number }, [string]>(
        "DELETE FROM web_signin_links WHERE hash = ? RETURNING user, cert_valid_before, expires_at").get(hash);
      return redeemed(row, now);
    });
  }

  startBrowserSession(s: BrowserSessionRecord): Promise<void> {
    return this.gate(() => {
      this.db.query("INSERT INTO web_sessions (hash, user, expires_at, created_at) VALUES (?, ?, ?, ?)")
        .run(s.hash, s.user, s.expiresAt.getTime(), s.createdAt.getTime());
    });
  }

  getBrowserSession(hash: string, now: Date): Promise<BrowserSessionRecord | undefined> {
    return this.gate(() => {
      const row = this.db.query<SessionRow, [string]>("SELECT * FROM web_sessions WHERE hash = ?").get(hash);
      if (!row) return undefined;
      if (row.expires_at <= now.getTime()) {
        this.db.query("DELETE FROM web_sessions WHERE hash = ?").run(hash);
        return undefined;
      }
      return sessionRecord(row);
    });
  }

  endBrowserSession(hash: string): Promise<boolean> {
    return this.gate(() => this.db.query("DELETE FROM web_sessions WHERE hash = ?").run(hash).changes === 1);
  }

  endBrowserSessionsOf(user: string): Promise<number> {
    return this.gate(() => this.db.query("DELETE FROM web_sessions WHERE user = ?").run(user).changes);
  }

  pruneConsole(now: Date): Promise<number> {
    return this.gate(() => this.db.query("DELETE FROM web_sessions WHERE expires_at <= ?").run(now.getTime()).changes +
      this.db.query("DELETE FROM web_signin_links WHERE expires_at < ?").run(now.getTime() - EXPIRED_LINK_KEPT_MS).changes);
  }
}
