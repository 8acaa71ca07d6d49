// The auth service's HTTP API: routing, authentication, authorization and JSON
// errors. Handlers live in auth/routes/; this file only wires them.
import type { Server } from "bun";
import { ruleAllows } from "../core/access-policy.ts";
import type { ApiResource, Verb } from "../core/resources.ts";
import { ValidationError } from "../core/validation-error.ts";
import type { Logger } from "../platform/logger.ts";
import { authenticate, type AuthenticateDeps, type Caller } from "./authenticate.ts";
import { HttpError, forbidden, notFound } from "./http-error.ts";
import type { AuthService } from "./auth-service.ts";
import type { WatchSocketData } from "./watch-hub.ts";

const MAX_BODY = 1 << 20;

export interface RouteContext {
  req: Request;
  url: URL;
  params: Record<string, string>;
  body: unknown;
  /** The request body's bytes (for routes with rawBody). */
  raw: Uint8Array;
  caller: Caller;
  svc: AuthService;
  server: Server<WatchSocketData>;
  /** Throws 403 unless the caller's roles allow `verb` on `resource`. */
  authorize(resource: ApiResource, verb: Verb): void;
}

export type Handler = (ctx: RouteContext) => unknown | Promise<unknown>;

export interface Route {
  method: string;
  path: string;
  /** Unauthenticated routes: the CA certificate, ping and join (which carries its token). */
  public?: boolean;
  /** Body is bytes, not JSON (ctx.raw), up to maxBody. */
  rawBody?: boolean;
  maxBody?: number;
  handler: Handler;
}

/** Who is calling: by default the request's signed token; the web console passes its session cookie's person. */
export type Identify = (req: Request, raw: Uint8Array) => Caller | Promise<Caller>;

export function createApi(routes: Route[], svc: AuthService, authDeps: AuthenticateDeps, log: Logger, identify: Identify = (req, raw) => authenticate(req, raw, authDeps)) {
  const compiled = routes.map((r) => ({ ...r, re: compilePath(r.path) }));
  return async (req: Request, server: Server<WatchSocketData>): Promise<Response | undefined> => {
    const url = new URL(req.url);
    try {
      const { route, params } = match(compiled, req.method, url.pathname);
      const raw = new Uint8Array(await readBody(req, route.maxBody ?? MAX_BODY));
      const caller = route.public ? (undefined as unknown as Caller) : await identify(req, raw);
      const ctx: RouteContext = {
        req, url, params, body: route.rawBody ? undefined : parseJson(raw), raw, caller, svc, server,
        authorize: (resource, verb) => authorizeCaller(caller, resource, verb, svc),
      };
      const result = await route.handler(ctx);
      if (result instanceof Response || result === undefined) return result as Response | undefined;
      return Response.json(result);
    } catch (e) {
      return errorResponse(e, log, req, url);
    }
  };
}

function authorizeCaller(caller: Caller, resource: ApiResource, verb: Verb, svc: AuthService): void {
  if (caller.kind === "user" && ruleAllows(caller.roles, resource, verb)) return;
  if (caller.kind === "node") throw forbidden(`nodes may not perform action "${verb}" on "${resource}"`);
  svc.audit({ event: "api.denied", code: "TAPI1W", user: caller.name, resource, verb });
  throw forbidden(`access denied to perform action "${verb}" on "${resource}"`);
}

function errorResponse(e: unknown, log: Logger, req: Request, url: URL): Response {
  if (e instanceof HttpError) return Response.json({ error: e.message }, { status: e.status });
  if (e instanceof ValidationError) return Response.json({ error: e.message }, { status: 400 });
  log.error("request failed", { method: req.method, path: url.pathname, error: e as Error });
  return Response.json({ error: "internal error" }, { status: 500 });
}

async function readBody(req: Request, max: number): Promise<ArrayBuffer> {
  const len = Number(req.headers.get("content-length") ?? "0");
  if (len > max) throw new HttpError(413, `request body over ${max} bytes`);
  const buf = await req.arrayBuffer();
  if (buf.byteLength > max) throw new HttpError(413, `request body over ${max} bytes`);
  return buf;
}

function parseJson(raw: Uint8Array): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(raw));
  } catch {
    throw new HttpError(400, "request body is not valid JSON");
  }
}

function compilePath(path: string): RegExp {
  return new RegExp("^" + path.replace(/:([a-z_]+)/g, "(?<$1>[^/]+)") + "$");
}

function match(routes: (Route & { re: RegExp })[], method: string, pathname: string) {
  let pathMatched = false;
  for (const route of routes) {
    const m = route.re.exec(pathname);
    if (!m) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    const params = Object.fromEntries(Object.entries(m.groups ?? {}).map(([k, v]) => [k, decodeParam(v)]));
    return { route, params };
  }
  if (pathMatched) throw new HttpError(405, `method ${method} not allowed on ${pathname}`);
  throw notFound(`no such endpoint: ${pathname.slice(0, 100)}`);
}

function decodeParam(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    throw new HttpError(400, `bad percent-encoding in path: ${JSON.stringify(v.slice(0, 60))}`);
  }
}
