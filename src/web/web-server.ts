// The console's HTTPS listener: the bundled pages, sign-in and sign-out, and the API
// under /api/ for a signed-in browser — the same route handlers, role rules, locks
// and audit as ctl, with the person taken from the session cookie instead of a token.
import { readFileSync } from "node:fs";
import type { AddonContext } from "../auth/start.ts";
import type { Caller } from "../auth/authenticate.ts";
import { HttpError } from "../auth/http-error.ts";
import type { WebConfig } from "../core/config.ts";
import { formatHostPort } from "../core/host-port.ts";
import { API_RESOURCES, VERBS } from "../core/resource-types.ts";
import { ruleAllows } from "../core/access-policy.ts";
import { VERSION, gitCommit } from "../platform/version.ts";
import { BrowserSessions, csrfMatches, type BrowserSession } from "./browser-sessions.ts";
import { clearedCookie, readSessionCookie, sessionCookie } from "./cookie.ts";
import { recordingEvents } from "./recording-events.ts";
import type { SigninLinks } from "./signin-links.ts";

const SAFE_METHODS = new Set(["GET", "HEAD"]);
const JSON_HEADERS = { "cache-control": "no-store", "x-content-type-options": "nosniff", "x-frame-options": "DENY" };

export async function startWebServer(ctx: AddonContext, cfg: WebConfig, links: SigninLinks, sessions: BrowserSessions) {
  const callers = new WeakMap<Request, Caller>();
  const api = ctx.apiAs((req) => {
    const c = callers.get(req);
    if (!c) throw new HttpError(401, "not signed in");
    return c;
  });
  const tls = cfg.certFile && cfg.keyFile
    ? { cert: readFileSync(cfg.certFile, "utf8"), key: readFileSync(cfg.keyFile, "utf8") }
    : { cert: ctx.tls.serverCertPem, key: ctx.tls.serverKeyPem };
  let base = "";
  const handle = async (req: Request, server: unknown): Promise<Response> => {
    const url = new URL(req.url);
    const p = url.pathname;
    if (p.startsWith("/signin/") && req.method === "GET") return signin(p.slice("/signin/".length));
    const id = readSessionCookie(req);
    const session = await sessions.get(id);
    if (!session) return signedOut("not signed in: run `hostward web` for a sign-in link");
    let caller: Caller;
    try {
      caller = await ctx.person(session.user);
    } catch (e) {
      // Locked or removed while signed in: the session ends here, and the page's live views close.
      await sessions.endUser(session.user);
      return signedOut(`signed out: ${(e as Error).message}`);
    }
    if (!SAFE_METHODS.has(req.method)) {
      const refusal = csrfRefusal(req, session, base);
      if (refusal) return refusal;
    }
    if (p === "/web/me" && req.method === "GET") return me(caller, session);
    if (p === "/web/signout" && req.method === "POST") {
      await sessions.end(id);
      await ctx.svc.audit({ event: "web.signout", code: "TW002I", user: session.user });
      return Response.json({ signed_out: true }, { headers: { ...JSON_HEADERS, "set-cookie": clearedCookie() } });
    }
    if (p.startsWith("/api/v1/")) return callApi(req, url, caller, server);
    return Response.json({ error: `no such page: ${p.slice(0, 100)}` }, { status: 404, headers: JSON_HEADERS });
  };

  async function callApi(req: Request, url: URL, caller: Caller, server: unknown): Promise<Response> {
    const inner = (path: string, init: RequestInit) => {
      const r = new Request(new URL(path, url).href, init);
      callers.set(r, caller);
      return api(r, server).then((res) => res ?? new Response(null, { status: 204 }));
    };
    const events = /^\/api\/v1\/recordings\/([^/]+)\/events$/.exec(url.pathname);
    if (events && req.method === "GET") return withHeaders(await recordingEvents(await inner(`/v1/recordings/${events[1]}/download`, { method: "GET" })));
    const body = SAFE_METHODS.has(req.method) ? undefined : await req.arrayBuffer();
    return withHeaders(await inner(url.pathname.slice("/api".length) + url.search, { method: req.method, body, headers: { "content-type": "application/json" } }));
  }

  async function signin(token: string): Promise<Response> {
    const r = await links.redeem(token);
    if (!r.ok) {
      const why = r.reason === "expired" ? "This sign-in link has expired (links last 60 seconds)." : "This sign-in link is not valid: it was already used, or never issued.";
      return page(401, `${why} Run <code>hostward web</code> for a new one.`);
    }
    try {
      await ctx.person(r.user);
    } catch (e) {
      return page(403, escapeHtml((e as Error).message));
    }
    const { id, session } = await sessions.start(r.user, r.certValidBefore);
    await ctx.svc.audit({ event: "web.signin", code: "TW001I", user: r.user, expires: session.expiresAt.toISOString() });
    return new Response(null, { status: 303, headers: { location: "/", "set-cookie": sessionCookie(id, session.expiresAt, Date.now()), "cache-control": "no-store" } });
  }

  function me(caller: Caller, session: BrowserSession): Response {
    if (caller.kind !== "user") throw new Error("a browser session is a person's");
    const can: Record<string, boolean> = {};
    for (const r of API_RESOURCES) for (const v of VERBS) if (ruleAllows(caller.roles, r, v)) can[`${r}.${v}`] = true;
    return Response.json({
      user: caller.name, roles: caller.roleNames, csrf: session.csrf, expires: session.expiresAt.toISOString(), can,
      cluster_name: ctx.svc.clusterName, version: VERSION, commit: gitCommit(),
    }, { headers: JSON_HEADERS });
  }

  const { consolePage, playerPage } = await import("./ui-pages.ts");
  const server = listen(cfg, () => Bun.serve({
    hostname: cfg.listen.host,
    port: cfg.listen.port,
    tls,
    development: false,
    routes: { "/": consolePage, "/player": playerPage },
    fetch: (req, srv) => handle(req, srv).catch((e) => {
      ctx.log.error("web request failed", { path: new URL(req.url).pathname, error: e as Error });
      return Response.json({ error: "internal error" }, { status: 500, headers: JSON_HEADERS });
    }),
  }));
  const port = server.port ?? cfg.listen.port;
  base = cfg.publicUrl ?? `https://${formatHostPort({ host: reachableHost(cfg.listen.host), port })}`;
  return { url: base, port, stop: async () => void server.stop(true) };
}

/**
 * State-changing requests must carry the session's CSRF token (which only our own
 * pages can read) and come from our own origin: SameSite=Strict alone is not relied on.
 */
function csrfRefusal(req: Request, session: BrowserSession, base: string): Response | undefined {
  const origin = req.headers.get("origin");
  const host = req.headers.get("host");
  const ours = origin !== null && (origin === base || (host !== null && origin === `https://${host}`));
  if (!ours) return Response.json({ error: "cross-origin request refused (CSRF protection)" }, { status: 403, headers: JSON_HEADERS });
  if (!csrfMatches(session, req.headers.get("x-csrf-token"))) {
    return Response.json({ error: "missing or wrong CSRF token" }, { status: 403, headers: JSON_HEADERS });
  }
  return undefined;
}

function signedOut(message: string): Response {
  return Response.json({ error: message, signed_out: true }, { status: 401, headers: { ...JSON_HEADERS, "set-cookie": clearedCookie() } });
}

function withHeaders(res: Response): Response {
  for (const [k, v] of Object.entries(JSON_HEADERS)) res.headers.set(k, v);
  return res;
}

function page(status: number, html: string): Response {
  const body = `<!doctype html><meta charset="utf-8"><title>hostward</title><body style="font-family:sans-serif;margin:3em"><h1>hostward</h1><p id="message">${html}</p></body>`;
  return new Response(body, { status, headers: { "content-type": "text/html; charset=utf-8", ...JSON_HEADERS } });
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function reachableHost(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "::1";
  return host;
}

function listen<T>(cfg: WebConfig, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new Error(`cannot listen on ${formatHostPort(cfg.listen)} for the web console: ${(e as Error).message}`);
  }
}
