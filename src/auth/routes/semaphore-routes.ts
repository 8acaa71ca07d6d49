// Connection semaphores: agents acquire, renew and release leases as
// themselves; operators list holders and clear one (`ctl semaphores ls|rm`).
import type { Route, RouteContext } from "../api.ts";
import { asBody, str, type Body } from "../body-fields.ts";
import { badRequest, forbidden, notFound } from "../http-error.ts";
import type { LeaseRef } from "../semaphore-service.ts";

export function semaphoreRoutes(): Route[] {
  const service = (ctx: RouteContext) => ctx.svc.semaphores;
  return [
    {
      method: "POST", path: "/v1/semaphores/acquire",
      handler: async (ctx) => {
        const node = requireNode(ctx);
        const b = asBody(ctx.body);
        const res = await service(ctx).acquire(node, leaseRef(b), positiveInt(b, "max"));
        return res.acquired
          ? { acquired: true, expires: res.expires.toISOString(), ttl_ms: res.ttl }
          : { acquired: false, holders: res.holders };
      },
    },
    {
      method: "POST", path: "/v1/semaphores/renew",
      handler: async (ctx) => {
        const node = requireNode(ctx);
        const leases = asBody(ctx.body).leases;
        if (!Array.isArray(leases)) throw badRequest("leases: expected an array");
        const res = await service(ctx).renew(node, leases.map((l) => leaseRef(asBody(l))));
        return { renewed: res.renewed, expires: res.expires.toISOString(), ttl_ms: res.ttl };
      },
    },
    {
      method: "POST", path: "/v1/semaphores/release",
      handler: async (ctx) => ({ released: await service(ctx).release(requireNode(ctx), leaseRef(asBody(ctx.body))) }),
    },
    {
      method: "GET", path: "/v1/semaphores",
      handler: async (ctx) => {
        ctx.authorize("semaphore", "list");
        return (await service(ctx).list(ctx.url.searchParams.get("key") ?? undefined)).map((l) => ({
          key: l.key, holder: l.holder, node: l.node, acquired: l.acquiredAt.toISOString(), expires: l.expiresAt.toISOString(),
        }));
      },
    },
    {
      method: "DELETE", path: "/v1/semaphores",
      handler: async (ctx) => {
        ctx.authorize("semaphore", "delete");
        const key = ctx.url.searchParams.get("key");
        const holder = ctx.url.searchParams.get("holder");
        if (!key) throw badRequest("key: required (e.g. connection/alice)");
        const targets = await service(ctx).remove(key, holder ?? undefined);
        if (targets.length === 0) throw notFound(`no lease on ${JSON.stringify(key.slice(0, 100))}${holder ? ` held by ${JSON.stringify(holder.slice(0, 100))}` : ""}`);
        const who = ctx.caller.kind === "user" ? ctx.caller.name : "";
        ctx.svc.log.info("semaphore leases removed", { key, holders: targets.map((l) => l.holder), by: who });
        return { removed: targets.map((l) => ({ key: l.key, holder: l.holder })) };
      },
    },
  ];
}

export function requireNode(ctx: RouteContext): string {
  if (ctx.caller.kind !== "node") throw forbidden("this endpoint is for nodes");
  return ctx.caller.serverId;
}

function leaseRef(b: Body): LeaseRef {
  return { key: str(b, "key", { max: 300 }), holder: str(b, "holder", { max: 200 }) };
}

function positiveInt(b: Body, key: string): number {
  const v = b[key];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) throw badRequest(`${key}: expected a positive integer`);
  return v;
}
