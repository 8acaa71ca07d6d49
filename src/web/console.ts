// The web console as an add-on of the auth process: the API route `hostward web`
// calls for a sign-in link, and the console's own HTTPS listener.
import type { AuthAddon } from "../auth/start.ts";
import type { Route } from "../auth/api.ts";
import { forbidden } from "../auth/http-error.ts";
import { BrowserSessions } from "./browser-sessions.ts";
import { SigninLinks } from "./signin-links.ts";
import { startWebServer } from "./web-server.ts";

export function webConsole(): AuthAddon {
  let links: SigninLinks | undefined;
  let baseUrl: string | undefined;
  return {
    routes: () => [signinLinkRoute(() => links, () => baseUrl)],
    async start(ctx) {
      if (!ctx.cfg.web) return { stop: async () => {} };
      // In the auth store: a link issued through one replica signs in through any, and a session is known to all.
      links = new SigninLinks(ctx.svc.store.console);
      const sessions = new BrowserSessions(ctx.svc.store.console);
      await ctx.svc.store.console.pruneConsole(new Date());
      const server = await startWebServer(ctx, ctx.cfg.web, links, sessions);
      baseUrl = server.url;
      ctx.log.info("web console started", { url: server.url });
      return server;
    },
  };
}

/** POST /v1/web/signin: a one-time link for the person whose certificate signed the request. */
function signinLinkRoute(links: () => SigninLinks | undefined, baseUrl: () => string | undefined): Route {
  return {
    method: "POST", path: "/v1/web/signin",
    handler: async (ctx) => {
      if (ctx.caller.kind !== "user") throw forbidden("only people sign in to the web console");
      const base = baseUrl();
      const issuer = links();
      if (!base || !issuer) throw forbidden("the web console is off: set [web] listen in auth.toml");
      const { token, expiresAt } = await issuer.issue(ctx.caller.name, ctx.caller.certValidBefore);
      return { url: `${base}/signin/${token}`, expires: expiresAt.toISOString() };
    },
  };
}
