// Endpoints agents call with their node identity: heartbeat, host certificate
// renewal and the change-feed WebSocket; and the operator's node listing.
import { parseNodeHealth } from "../../core/node-health.ts";
import type { Route, RouteContext } from "../api.ts";
import { asBody, labels, str } from "../body-fields.ts";
import { isHistoryHash } from "../../core/feed-history.ts";
import { SERVER_TIME_HEADER } from "../../core/request-token.ts";
import { forbidden, HttpError } from "../http-error.ts";
import type { NodeRecord } from "../store.ts";
import type { AuthService } from "../auth-service.ts";

export function nodeRoutes(): Route[] {
  return [
    {
      method: "POST", path: "/v1/nodes/heartbeat",
      handler: async (ctx) => {
        const serverId = requireNode(ctx);
        const b = asBody(ctx.body ?? {});
        await ctx.svc.heartbeat(serverId, { addr: str(b, "addr", { optional: true }) || undefined, labels: b.labels ? labels(b, "labels") : undefined }, parseNodeHealth(b.health));
        return { ok: true };
      },
    },
    {
      method: "POST", path: "/v1/nodes/host-cert",
      handler: async (ctx) => ({ host_cert: await ctx.svc.renewHostCert(requireNode(ctx), str(asBody(ctx.body), "host_key")) }),
    },
    {
      method: "GET", path: "/v1/watch",
      handler: (ctx) => {
        const serverId = requireNode(ctx);
        const since = Number(ctx.url.searchParams.get("since") ?? "0");
        if (!Number.isSafeInteger(since) || since < 0) throw new HttpError(400, "since: expected a revision number");
        const hash = ctx.url.searchParams.get("hash") ?? undefined;
        if (hash !== undefined && hash !== "" && !isHistoryHash(hash)) throw new HttpError(400, "hash: expected a history hash");
        const headers = { [SERVER_TIME_HEADER]: String(ctx.svc.now().getTime()) };
        if (ctx.server.upgrade(ctx.req, { data: { serverId, since, hash }, headers })) return undefined;
        throw new HttpError(400, "expected a WebSocket upgrade");
      },
    },
    {
      method: "GET", path: "/v1/nodes",
      handler: async (ctx) => {
        ctx.authorize("node", "list");
        return (await ctx.svc.store.listNodes()).map((n) => nodeView(n, ctx.svc));
      },
    },
  ];
}

function requireNode(ctx: RouteContext): string {
  if (ctx.caller.kind !== "node") throw forbidden("this endpoint is for nodes");
  return ctx.caller.serverId;
}

export function nodeView(n: NodeRecord, svc: AuthService) {
  return {
    server_id: n.serverId, hostname: n.hostname, addr: n.addr, labels: n.labels, version: n.version,
    state: svc.nodeState(n), last_seen: n.lastSeen.toISOString(), joined_at: n.joinedAt.toISOString(),
    ...(svc.health.has(n.serverId) ? { health: svc.health.get(n.serverId) } : {}),
  };
}
