// The web console's sign-in links and browser sessions with a controlled clock: a link
// works once and only for 60 s; a session ends with the certificate it came from. Both
// live in the auth store (here an in-memory SQLite one; the shared suite covers both backends).
import { describe, expect, test } from "bun:test";
import { SqliteStore } from "../../src/auth/sqlite-store.ts";
import { BrowserSessions, csrfMatches, MAX_SESSION_MS } from "../../src/web/browser-sessions.ts";
import { readSessionCookie, sessionCookie } from "../../src/web/cookie.ts";
import { LINK_TTL_MS, SigninLinks } from "../../src/web/signin-links.ts";

const store = () => SqliteStore.open(":memory:").console;

describe("sign-in links", async () => {
  test("a link signs in once; the second use is refused", async () => {
    const links = new SigninLinks(store(), () => 1000);
    const { token } = await links.issue("alice");
    expect(await links.redeem(token)).toEqual({ ok: true, user: "alice" });
    expect(await links.redeem(token)).toEqual({ ok: false, reason: "unknown" });
  });

  test("an expired link is refused (and used up)", async () => {
    let now = 0;
    const links = new SigninLinks(store(), () => now);
    const { token, expiresAt } = await links.issue("alice", new Date(10_000_000));
    expect(expiresAt.getTime()).toBe(LINK_TTL_MS);
    now = LINK_TTL_MS + 1;
    expect(await links.redeem(token)).toEqual({ ok: false, reason: "expired" });
    now = 0;
    expect(await links.redeem(token)).toEqual({ ok: false, reason: "unknown" });
  });

  test("a made-up token is refused", async () => {
    expect(await new SigninLinks(store()).redeem("x".repeat(43))).toEqual({ ok: false, reason: "unknown" });
  });
});

describe("browser sessions", async () => {
  test("a session ends no later than the certificate, and at most after 12 hours", async () => {
    let now = 0;
    const sessions = new BrowserSessions(store(), () => now);
    const short = await sessions.start("alice", new Date(5000));
    expect(short.session.expiresAt.getTime()).toBe(5000);
    expect((await sessions.start("bob", new Date(MAX_SESSION_MS * 10))).session.expiresAt.getTime()).toBe(MAX_SESSION_MS);
    expect((await sessions.get(short.id))?.user).toBe("alice");
    now = 5000;
    expect(await sessions.get(short.id)).toBeUndefined();
  });

  test("sign-out and locks end sessions on the server", async () => {
    const sessions = new BrowserSessions(store());
    const a = await sessions.start("alice");
    const b = await sessions.start("alice");
    const c = await sessions.start("carol");
    await sessions.end(a.id);
    expect(await sessions.get(a.id)).toBeUndefined();
    expect(await sessions.endUser("alice")).toBe(1);
    expect(await sessions.get(b.id)).toBeUndefined();
    expect((await sessions.get(c.id))?.user).toBe("carol");
  });

  test("CSRF token compare: only the session's own token", async () => {
    const { session } = (await new BrowserSessions(store()).start("alice"));
    expect(csrfMatches(session, session.csrf)).toBe(true);
    expect(csrfMatches(session, null)).toBe(false);
    expect(csrfMatches(session, "")).toBe(false);
    expect(csrfMatches(session, session.csrf.slice(1) + "A")).toBe(false);
  });

  test("the cookie: __Host- prefixed, HttpOnly, Secure, SameSite=Strict, with its lifetime", async () => {
    const line = sessionCookie("abc", new Date(61_000), 1000);
    expect(line).toBe("__Host-hostward_session=abc; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=60");
    expect(readSessionCookie(new Request("https://x/", { headers: { cookie: "a=b; __Host-hostward_session=abc; c=d" } }))).toBe("abc");
    expect(readSessionCookie(new Request("https://x/", { headers: { cookie: "hostward_session=abc" } }))).toBeUndefined();
  });
});
