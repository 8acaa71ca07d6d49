// The session inventory (`ctl sessions ls`) and the call an agent makes when it
// (re)starts: every lease it held and every session it had open are over.
import { formatDuration, ms } from "../../core/duration.ts";
import type { Route } from "../api.ts";
import type { AuthService } from "../auth-service.ts";
import { asBody, str } from "../body-fields.ts";
import { badRequest, HttpError, notFound } from "../http-error.ts";
import type { SessionRecord, StoredSessionState } from "../session-inventory.ts";
import { requireNode } from "./semaphore-routes.ts";
import { recordingState } from "./recording-routes.ts";
import { sinceDate } from "./since-date.ts";

const MAX_PAGE = 1000;
const STATES = ["active", "completed", "rejected", "lost"] as const;
type ShownState = (typeof STATES)[number];

export function sessionRoutes(): Route[] {
  return [
    {
      method: "GET", path: "/v1/sessions",
      handler: async (ctx) => {
        ctx.authorize("session", "list");
        const q = ctx.url.searchParams;
        const state = q.get("state") ?? undefined;
        if (state !== undefined && !(STATES as readonly string[]).includes(state)) throw badRequest(`state: expected one of ${STATES.join(", ")}`);
        const limit = Number(q.get("limit") ?? "100");
        if (!Number.isInteger(limit) || limit < 1) throw badRequest("limit: expected a positive integer");
        const since = q.get("since");
        const until = q.get("until");
        // An active row on an offline node shows as lost, so active and lost are read together.
        const stored: StoredSessionState[] | undefined = state === "active" || state === "lost" ? ["active", "lost"] : state ? [state as StoredSessionState] : undefined;
        const rows = await ctx.svc.store.sessions.list({
          states: stored, user: q.get("user") ?? undefined, node: q.get("node") ?? undefined, login: q.get("login") ?? undefined,
          since: since ? sinceDate(since, ctx.svc.now()) : undefined, until: until ? sinceDate(until, ctx.svc.now()) : undefined,
          after: cursor(q.get("before")), limit: Math.min(limit, MAX_PAGE),
        });
        const views = await Promise.all(rows.map((r) => sessionView(r, ctx.svc)));
        return views.filter((r) => !state || r.state === state);
      },
    },
    {
      method: "POST", path: "/v1/sessions/:id/terminate",
      handler: async (ctx) => {
        ctx.authorize("session", "update");
        const id = ctx.params.id!;
        const node = await ctx.svc.store.sessions.nodeOf(id);
        if (!node) throw notFound(`no session ${JSON.stringify(id.slice(0, 64))}`);
        const message = str(asBody(ctx.body ?? {}), "message", { optional: true, max: 1024 });
        if (/[\x00-\x1f\x7f]/.test(message)) throw badRequest("message: must be one line without control characters");
        const who = ctx.caller.kind === "user" ? ctx.caller.name : "";
        const reason = `session terminated by ${who}${message ? `: ${message}` : ""}`;
        // Sent: written to the node's feed connection by this replica or by the one that holds it.
        const out = await ctx.svc.commands.terminate(node, id, reason);
        if (!out.sent) throw new HttpError(503, `node ${node} is not connected to any auth replica; the session cannot be reached now`);
        await ctx.svc.audit({ event: "session.terminate", code: "TSC01I", user: who, sid: id, server_id: node, reason });
        return { terminating: id, node, sent_via: out.via };
      },
    },
    {
      method: "POST", path: "/v1/nodes/started",
      handler: async (ctx) => {
        const node = requireNode(ctx);
        const leases = await ctx.svc.semaphores.releaseNode(node);
        const sessions = await ctx.svc.store.sessions.markNodeLost(node, ctx.svc.now(), "the agent restarted before reporting the end");
        ctx.svc.log.info("node (re)started: its leases released, open sessions marked lost", { server_id: node, leases, sessions });
        return { leases_released: leases, sessions_lost: sessions };
      },
    },
  ];
}

/** `before=START,ID` (the last row of the previous page): keyset paging, as fast on page 1000 as on page 1. */
function cursor(v: string | null): { start: Date; id: string } | undefined {
  if (v === null) return undefined;
  const comma = v.indexOf(",");
  const start = new Date(v.slice(0, comma));
  if (comma < 1 || Number.isNaN(start.getTime()) || v.length - comma > 200) throw badRequest("before: expected START,ID from the last row of the previous page");
  return { start, id: v.slice(comma + 1) };
}

async function sessionView(r: SessionRecord, svc: AuthService) {
  let state: ShownState = r.state;
  let reason = r.reason;
  if (state === "active") {
    const node = await svc.store.getNode(r.node);
    const nodeState = node ? svc.nodeState(node) : "offline";
    if (nodeState === "offline") {
      state = "lost";
      reason = node ? `node offline since ${node.lastSeen.toISOString()}` : "node is no longer registered";
    }
  }
  const end = r.end;
  const durationMs = end ? end.getTime() - r.start.getTime() : state === "active" ? svc.now().getTime() - r.start.getTime() : undefined;
  return {
    id: r.id, state, user: r.user ?? "", login: r.login ?? "", node: r.node, kind: r.kind ?? "",
    start: r.start.toISOString(), end: end?.toISOString() ?? "",
    duration: durationMs === undefined || r.state === "rejected" ? "" : formatDuration(ms(Math.max(0, Math.round(durationMs / 1000) * 1000))),
    recorded: r.recorded, recording: await recordingOf(r, svc), reason: reason ?? "",
  };
}

/** A recorded session's recording: complete, interrupted, corrupt, uploading, or pending (still on the node). */
async function recordingOf(r: SessionRecord, svc: AuthService): Promise<string> {
  if (!r.recorded) return "";
  const rec = await svc.store.recordings.getRecording(r.id);
  return rec ? recordingState(rec) : "pending";
}
