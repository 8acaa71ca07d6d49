// Operator endpoints that are not plain resources: join tokens, user certificates,
// status, known-hosts and the audit event log.
import { caPinFromPem } from "../../core/ca-pin.ts";
import { VERSION } from "../../platform/version.ts";
import type { Route } from "../api.ts";
import { asBody, bool, duration, str } from "../body-fields.ts";
import { badRequest } from "../http-error.ts";
import { joinableAddrs } from "../live-replicas.ts";
import { actor } from "./resource-routes.ts";
import { sinceDate } from "./since-date.ts";

const MAX_PAGE = 1000;

export function adminRoutes(caCertPem: string): Route[] {
  return [
    {
      method: "POST", path: "/v1/tokens",
      handler: async (ctx) => {
        ctx.authorize("token", "create");
        const b = asBody(ctx.body ?? {});
        const { token, expiresAt } = await ctx.svc.createToken(duration(b, "ttl", "30m"), bool(b, "reusable"), actor(ctx));
        // Every live replica, so the join line a host is given lists them all.
        const authServers = await joinableAddrs(ctx.svc.store, ctx.svc.now());
        return { token, expires: expiresAt.toISOString(), ca_pin: caPinFromPem(caCertPem), auth_servers: authServers };
      },
    },
    {
      method: "GET", path: "/v1/tokens",
      handler: async (ctx) => {
        ctx.authorize("token", "list");
        return (await ctx.svc.store.listTokens(ctx.svc.now())).map((t) => ({
          hash_prefix: t.hash.slice(0, 12), expires: t.expiresAt.toISOString(), reusable: t.reusable, created_by: t.createdBy,
        }));
      },
    },
    {
      method: "POST", path: "/v1/users/:name/certs",
      handler: async (ctx) => {
        ctx.authorize("user", "update");
        if (ctx.caller.kind === "user") {
          const refusal = await ctx.svc.certificateEscalation(ctx.caller, ctx.params.name!);
          if (refusal) ctx.deny(refusal);
        }
        const b = asBody(ctx.body);
        const cert = await ctx.svc.signUserCert(ctx.params.name!, str(b, "public_key", { max: 16_384 }), duration(b, "ttl", "8h"));
        return { cert: cert.line, valid_before: cert.validBefore.toISOString(), principals: cert.principals };
      },
    },
    {
      method: "GET", path: "/v1/status",
      handler: async ({ svc, caller }) => ({
        cluster_name: svc.clusterName,
        ca_pin: svc.caPin,
        version: VERSION,
        revision: await svc.store.revision(),
        nodes: (await svc.store.listNodes()).length,
        you: caller.kind === "user" ? { user: caller.name, roles: caller.roleNames } : { node: caller.serverId },
      }),
    },
    {
      method: "GET", path: "/v1/known-hosts",
      // ?nodes=1 adds each node's own host key, for clients without @cert-authority (paramiko, PuTTY).
      handler: async (ctx) => {
        const out: Record<string, unknown> = { host_ca_keys: [ctx.svc.cas.host.publicLine], user_ca_keys: [ctx.svc.cas.user.publicLine] };
        if (ctx.url.searchParams.get("nodes") !== "1") return out;
        ctx.authorize("node", "list");
        out.nodes = (await ctx.svc.store.listNodes()).map((n) => ({ hostname: n.hostname, addr: n.addr, host_key: n.hostKey }));
        return out;
      },
    },
    {
      method: "GET", path: "/v1/events",
      handler: (ctx) => {
        ctx.authorize("event", "list");
        const q = ctx.url.searchParams;
        const limit = Math.min(Number(q.get("limit") ?? "100"), MAX_PAGE);
        if (!Number.isInteger(limit) || limit < 1) throw badRequest("limit: expected a positive integer");
        const since = q.get("since");
        const before = q.get("before");
        if (before !== null && !/^[1-9]\d{0,15}$/.test(before)) throw badRequest("before: expected an event seq from an earlier page");
        return ctx.svc.store.listEvents({
          type: q.get("type") ?? undefined,
          user: q.get("user") ?? undefined,
          since: since ? sinceDate(since, ctx.svc.now()) : undefined,
          before: before ? Number(before) : undefined,
          limit,
        });
      },
    },
  ];
}
