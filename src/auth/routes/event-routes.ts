// Audit events arriving from agents' outboxes: validated, stamped with the sending
// node's own server UUID (a node cannot speak for another) and stored once by uid.
import type { Route } from "../api.ts";
import { asBody } from "../body-fields.ts";
import { badRequest, forbidden } from "../http-error.ts";
import type { AuditEvent } from "../store.ts";

const MAX_EVENTS = 1000;
const MAX_EVENT_BYTES = 16_384;

export function eventRoutes(): Route[] {
  return [{
    method: "POST", path: "/v1/events",
    handler: (ctx) => {
      if (ctx.caller.kind !== "node") throw forbidden("only nodes submit audit events");
      const serverId = ctx.caller.serverId;
      const events = asBody(ctx.body).events;
      if (!Array.isArray(events) || events.length > MAX_EVENTS) throw badRequest(`events: expected an array of at most ${MAX_EVENTS}`);
      let stored = 0;
      for (const [i, e] of events.entries()) {
        const ev = checkEvent(e, i);
        if (ctx.svc.store.appendEvent({ ...ev, server_id: serverId })) stored++;
      }
      return { received: events.length, stored };
    },
  }];
}

function checkEvent(e: unknown, i: number): AuditEvent {
  const o = asBody(e);
  for (const k of ["uid", "event", "code", "time"]) {
    if (typeof o[k] !== "string" || (o[k] as string).length === 0 || (o[k] as string).length > 128) throw badRequest(`events[${i}].${k}: expected a short string`);
  }
  if (Number.isNaN(Date.parse(o.time as string))) throw badRequest(`events[${i}].time: not an RFC 3339 time`);
  if (JSON.stringify(o).length > MAX_EVENT_BYTES) throw badRequest(`events[${i}]: larger than ${MAX_EVENT_BYTES} bytes`);
  return o as AuditEvent;
}
