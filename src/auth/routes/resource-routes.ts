// Create, read, list and delete of the TOML resources (role, user, lock,
// cluster_config), each checked against the caller's role rules.
import { toExternal } from "../../core/resources.ts";
import type { ResourceKind, Verb } from "../../core/resource-types.ts";
import type { PendingChange } from "../admin-guard.ts";
import type { Route, RouteContext } from "../api.ts";
import { asBody } from "../body-fields.ts";
import { badRequest, notFound } from "../http-error.ts";

const KINDS: readonly ResourceKind[] = ["role", "user", "lock", "cluster_config"];

export function resourceRoutes(): Route[] {
  return [
    {
      method: "GET", path: "/v1/resources/:kind",
      handler: async (ctx) => {
        const kind = kindParam(ctx);
        ctx.authorize(kind, "list");
        return kind === "lock" ? ctx.svc.activeLocks().map(toExternal) : (await ctx.svc.store.listResources(kind)).map(toExternal);
      },
    },
    {
      method: "GET", path: "/v1/resources/:kind/:name",
      handler: async (ctx) => {
        const kind = kindParam(ctx);
        ctx.authorize(kind, "read");
        const r = kind === "lock" ? ctx.svc.activeLocks().find((l) => l.name === ctx.params.name) : await ctx.svc.store.getResource(kind, ctx.params.name!);
        if (!r) throw notFound(`${kind} ${JSON.stringify(ctx.params.name)} not found`);
        return toExternal(r);
      },
    },
    {
      method: "PUT", path: "/v1/resources",
      handler: async (ctx) => {
        const b = asBody(ctx.body);
        const kind = typeof b.kind === "string" && (KINDS as string[]).includes(b.kind) ? (b.kind as ResourceKind) : undefined;
        if (!kind) throw badRequest(`kind: expected one of ${KINDS.join(", ")}`);
        const exists = typeof b.name === "string" && (await ctx.svc.store.getResource(kind, b.name)) !== undefined;
        const verb = exists ? "update" : "create";
        ctx.authorize(kind, verb);
        const r = ctx.svc.parse(b);
        await refuseEscalation(ctx, { put: r }, verb);
        return toExternal(await ctx.svc.putParsed(r, actor(ctx)));
      },
    },
    {
      method: "DELETE", path: "/v1/resources/:kind/:name",
      handler: async (ctx) => {
        const kind = kindParam(ctx);
        ctx.authorize(kind, "delete");
        await refuseEscalation(ctx, { delete: { kind, name: ctx.params.name! } }, "delete");
        await ctx.svc.deleteResource(kind, ctx.params.name!, actor(ctx));
        return { deleted: `${kind}/${ctx.params.name}` };
      },
    },
  ];
}

/** Deleting a role that denies, or writing a role or user, must not grant what the caller lacks. */
async function refuseEscalation(ctx: RouteContext, change: PendingChange, verb: Verb): Promise<void> {
  if (ctx.caller.kind !== "user") return;
  const refusal = await ctx.svc.escalation(ctx.caller, change, verb);
  if (refusal) ctx.deny(refusal);
}

export function actor(ctx: RouteContext): string {
  return ctx.caller.kind === "user" ? ctx.caller.name : `node:${ctx.caller.serverId}`;
}

function kindParam(ctx: RouteContext): ResourceKind {
  const k = ctx.params.kind!.replace(/s$/, "");
  if (!(KINDS as string[]).includes(k)) throw notFound(`unknown resource kind ${JSON.stringify(ctx.params.kind!.slice(0, 40))}`);
  return k as ResourceKind;
}
