// The auth service's HTTP API: routing, authentication, authorization and JSON
// errors. Handlers live in auth/routes/; this file only wires them.
import type { Server } from "bun";
import { ruleAllows } from "../core/access-policy.ts";
import type { ApiResource, Verb } from "../core/resource-types.ts";
import { ValidationError } from "../core/validation-error.ts";
import type { Logger } from "../platform/logger.ts";
import { authenticateHeaders, type AuthenticateDeps, type Caller } from "./authenticate.ts";
import { isStoreUnavailable, type StoreHealth } from "./store-health.ts";
import { HttpError, forbidden, notFound } from "./http-error.ts";
import type { AuthService } from "./auth-service.ts";
import type { ApiRefusal } from "./api-refusal.ts";
import type { WatchSocketData } from "./watch-hub.ts";
import { SERVER_TIME_HEADER } from "../core/request-token.ts";

const MAX_BODY = 1 << 20;
/** Public routes (CA, ping, join): a join request is a few keys and names. */
const PUBLIC_MAX_BODY = 64 * 1024;

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
  /** Refuses an allowed action for a reason of its own (e.g. escalation): api.denied event, then 403. */
  deny(refusal: ApiRefusal): never;
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

/** The largest body any route accepts: the server refuses a longer declared length before any handler runs. */
export function largestBody(routes: Route[]): number {
  return Math.max(MAX_BODY, ...routes.map((r) => r.maxBody ?? MAX_BODY));
}

/** Who is calling, when not the request's signed token: the web console passes its session cookie's person. */
export type Identify = (req: Request) => Caller | Promise<Caller>;

export function createApi(routes: Route[], svc: AuthService, authDeps: AuthenticateDeps, log: Logger, identify?: Identify) {
  const compiled = routes.map((r) => ({ ...r, re: compilePath(r.path) }));
  const handle = async (req: Request, server: Server<WatchSocketData>): Promise<Response | undefined> => {
    const url = new URL(req.url);
    try {
      const { route, params } = match(compiled, req.method, url.pathname);
      const { raw, caller } = identify && !route.public
        ? { caller: await identify(req), raw: await readBody(req, route.maxBody ?? MAX_BODY) }
        : await authenticatedBody(req, route, server, authDeps);
      const ctx: RouteContext = {
        req, url, params, body: route.rawBody ? undefined : parseJson(raw), raw, caller, svc, server,
        authorize: (resource, verb) => authorizeCaller(caller, resource, verb, svc),
        deny: (refusal) => denyCaller(caller, refusal, svc),
      };
      const result = await route.handler(ctx);
      if (result instanceof Response || result === undefined) return result as Response | undefined;
      return Response.json(result);
    } catch (e) {
      return errorResponse(e, log, req, url, svc.storeHealth);
    }
  };
  return async (req: Request, server: Server<WatchSocketData>): Promise<Response | undefined> => {
    const res = await handle(req, server);
    res?.headers.set(SERVER_TIME_HEADER, String(svc.now().getTime()));
    return res;
  };
}

/**
 * The body is read only after the token verified on its headers, and while it
 * streams: a client that is not who it claims never makes us hold more than a login
 * needs, and no one makes us hold more than the route's limit.
 */
async function authenticatedBody(req: Request, route: Route, server: Server<WatchSocketData>, deps: AuthenticateDeps) {
  if (route.public) return { raw: await readBody(req, Math.min(route.maxBody ?? PUBLIC_MAX_BODY, PUBLIC_MAX_BODY)), caller: undefined as unknown as Caller };
  const pending = await authenticateHeaders(req, server.requestIP(req)?.address, deps);
  const raw = await readBody(req, route.maxBody ?? MAX_BODY);
  return { raw, caller: await pending.finish(raw) };
}

function authorizeCaller(caller: Caller, resource: ApiResource, verb: Verb, svc: AuthService): void {
  if (caller.kind === "user" && ruleAllows(caller.roles, resource, verb)) return;
  denyCaller(caller, { resource, verb, reason: "rules", message: `access denied to perform action "${verb}" on "${resource}"` }, svc);
}

function denyCaller(caller: Caller, refusal: ApiRefusal, svc: AuthService): never {
  const { resource, verb, reason, message } = refusal;
  if (caller.kind === "node") throw forbidden(`nodes may not perform action "${verb}" on "${resource}"`);
  // The refusal does not wait for its audit event; a store too slow to take it is logged.
  svc.audit({ event: "api.denied", code: "TAPI1W", user: caller.name, resource, verb, reason, ...(reason === "rules" ? {} : { message }) })
    .catch((e) => svc.log.warn("audit event not stored", { event: "api.denied", error: e as Error }));
  throw forbidden(message);
}

function errorResponse(e: unknown, log: Logger, req: Request, url: URL, health?: StoreHealth): Response {
  if (e instanceof HttpError) return Response.json({ error: e.message }, { status: e.status });
  if (e instanceof ValidationError) return Response.json({ error: e.message }, { status: 400 });
  if (isStoreUnavailable(e)) {
    // Not our bug and not the caller's: try another replica, or again shortly.
    health?.failed(e);
    log.warn("request failed: store unreachable", { method: req.method, path: url.pathname, error: e as Error });
    return Response.json({ error: health?.reason ?? "the auth store is unreachable" }, { status: 503 });
  }
  log.error("request failed", { method: req.method, path: url.pathname, error: e as Error });
  return Response.json({ error: "internal error" }, { status: 500 });
}

/** Reads at most `max` bytes, counting as they arrive (chunked bodies have no length to trust). */
async function readBody(req: Request, max: number): Promise<Uint8Array> {
  const declared = req.headers.get("content-length");
  if (declared !== null && !(Number(declared) <= max)) throw new HttpError(413, `request body over ${max} bytes`);
  if (!req.body) return new Uint8Array(0);
  // A declared length within the limit is what the server reads (HTTP framing ends the
  // body there), so it is read natively in one buffer rather than chunk by chunk and
  // copied again (a recording part is up to 32 MiB).
  if (declared !== null) return new Uint8Array(await req.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      void reader.cancel().catch(() => {});
      throw new HttpError(413, `request body over ${max} bytes`);
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

/** A JSON request body; empty is undefined, anything unparsable a 400. */
export function parseJson(raw: Uint8Array): unknown {
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
