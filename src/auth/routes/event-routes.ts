// Audit events arriving from agents' outboxes: validated, stamped with the sending
// node's own server UUID (a node cannot speak for another) and stored once by uid.
import type { Route } from "../api.ts";
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
      // Every event is checked before any is stored: a bad batch stores nothing.
      const checked = events.map((e, i) => ({ ...checkEvent(e, i), server_id: serverId }));
      // One transaction per batch: the log and the inventory move together, and fast.
      const stored = await ctx.svc.store.atomically(async (tx) => {
        let n = 0;
        for (const ev of checked) {
          if (await tx.appendEvent(ev)) n++;
          // Also applied for a duplicate (it is idempotent): the inventory heals on redelivery.
          await applySessionEvent(tx.sessions, ev);
        }
        return n;
      });
      return { received: events.length, stored };
    },
  }];
}

function checkEvent(e: unknown, i: number): AuditEvent {
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
