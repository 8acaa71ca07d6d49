// Audit events arriving from agents' outboxes: validated, stamped with the sending
// node's own server UUID and stored once by uid. A node may send only the event types
// agents emit, about its own sessions; the others are refused one by one, never the
// whole batch (the outbox would retry it forever).
import { nodeEventRefusal } from "../../core/node-events.ts";
import type { Route, RouteContext } from "../api.ts";
import { asBody } from "../body-fields.ts";
import { badRequest, forbidden } from "../http-error.ts";
import { applySessionEvent } from "../session-events.ts";
import type { AuditEvent } from "../store.ts";

const MAX_EVENTS = 1000;
const MAX_EVENT_BYTES = 16_384;

export function eventRoutes(): Route[] {
  return [{
    method: "POST", path: "/v1/events",
    handler: async (ctx) => {
      if (ctx.caller.kind !== "node") throw forbidden("only nodes submit audit events");
      const serverId = ctx.caller.serverId;
      const events = asBody(ctx.body).events;
      if (!Array.isArray(events) || events.length > MAX_EVENTS) throw badRequest(`events: expected an array of at most ${MAX_EVENTS}`);
      // Every event is checked before any is stored: a malformed one fails the batch (400,
      // which the outbox splits until it sets the bad event aside).
      const checked = events.map((e, i) => checkEvent(e, i));
      const { accepted, refused } = await sortOut(ctx, checked, serverId);
      // One transaction per batch: the log and the inventory move together, and fast.
      const stored = await ctx.svc.store.atomically(async (tx) => {
        let n = 0;
        for (const ev of accepted) {
          if (await tx.appendEvent(ev)) n++;
          // Also applied for a duplicate (it is idempotent): the inventory heals on redelivery.
          await applySessionEvent(tx.sessions, ev);
        }
        return n;
      });
      return { received: events.length, stored, ...(refused.length ? { refused } : {}) };
    },
  }];
}

/** Splits a batch into what this node may send and what it may not (logged, answered per uid). */
async function sortOut(ctx: RouteContext, events: AuditEvent[], serverId: string) {
  const accepted: (AuditEvent & { server_id: string })[] = [];
  const refused: { uid: string; error: string }[] = [];
  const inBatch = new Map<string, string>(); // sessions this batch starts
  for (const ev of events) {
    const sid = typeof ev.sid === "string" ? ev.sid : undefined;
    const sessionNode = sid === undefined ? undefined : inBatch.get(sid) ?? (await ctx.svc.store.sessions.nodeOf(sid));
    const refusal = nodeEventRefusal(ev, serverId, sessionNode);
    if (refusal) {
      ctx.svc.log.warn("refused an audit event from a node", { server_id: serverId, event: ev.event, uid: ev.uid, refusal: refusal.kind });
      refused.push({ uid: ev.uid, error: refusal.message });
      continue;
    }
    if (sid !== undefined && ev.event === "session.start") inBatch.set(sid, serverId);
    accepted.push({ ...ev, server_id: serverId });
  }
  return { accepted, refused };
}

/** One event of a batch, checked for shape and size; a 400 names the bad one. */
export function checkEvent(e: unknown, i: number): AuditEvent {
  const o = asBody(e);
  for (const k of ["uid", "event", "code", "time"]) {
    if (typeof o[k] !== "string" || (o[k] as string).length === 0 || (o[k] as string).length > 128) throw badRequest(`events[${i}].${k}: expected a short string`);
  }
  const time = Date.parse(o.time as string);
  if (Number.isNaN(time)) throw badRequest(`events[${i}].time: not an RFC 3339 time`);
  o.time = new Date(time).toISOString(); // one form, so the log sorts by time
  if (JSON.stringify(o).length > MAX_EVENT_BYTES) throw badRequest(`events[${i}]: larger than ${MAX_EVENT_BYTES} bytes`);
  return o as AuditEvent;
}
