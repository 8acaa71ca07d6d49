// Session recordings: agents open uploads, send parts and complete them (node
// identity); people list, download and delete them (rules on "recording").
import type { RecordingRecord, RecordingUsage } from "../recording/recording-store.ts";
import { IngestError, type RecordingIngest } from "../recording/recording-ingest.ts";
import { badSessionIdMessage, isSessionId } from "../../core/session-id.ts";
import type { Route, RouteContext } from "../api.ts";
import { asBody, bool, clipped, str } from "../body-fields.ts";
import { StorageError } from "../recording/storage-error.ts";
import { badRequest, conflict, forbidden, HttpError, notFound } from "../http-error.ts";
import { actor } from "./resource-routes.ts";

const MAX_PART = 32 * 1024 * 1024;
const MAX_PAGE = 1000;
const DAY_MS = 86_400_000;
/** A longer command is stored cut to this many characters, with command_truncated: true. */
const MAX_COMMAND = 4096;

export function recordingRoutes(ingest: RecordingIngest): Route[] {
  return [
    {
      method: "POST", path: "/v1/recordings/orphans",
      handler: async (ctx) => ({ finished: await ingest.finishOrphans(node(ctx), "the agent restarted during the session (node-sync stream lost)") }),
    },
    {
      method: "PUT", path: "/v1/recordings/:sid",
      handler: async (ctx) => {
        const [serverId, sessionId] = [node(ctx), sid(ctx)];
        const b = asBody(ctx.body);
        const started = new Date(str(b, "started", { max: 40 }));
        if (Number.isNaN(started.getTime())) throw badRequest("started: not an RFC 3339 time");
        // A recording is never refused for the size of one field (that would be a way to
        // keep a session out of storage): long fields are cut and marked as cut.
        const truncated: string[] = [];
        const field = (key: string, max: number, optional = false) => {
          const c = clipped(b, key, max, optional);
          if (c.truncated) truncated.push(key);
          return c.value;
        };
        return uploadState(await guard(() => ingest.open({
          serverId, sessionId, started,
          user: field("user", 128), login: field("login", 64), kind: str(b, "kind", { max: 16 }),
          command: field("command", MAX_COMMAND, true) || undefined, mode: str(b, "mode", { max: 16 }),
          ...(truncated.length ? { truncated } : {}),
        })));
      },
    },
    {
      method: "PUT", path: "/v1/recordings/:sid/parts/:n", rawBody: true, maxBody: MAX_PART,
      handler: async (ctx) => {
        const n = Number(ctx.params.n);
        if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw badRequest("part number: expected a positive integer");
        const [serverId, sessionId] = [node(ctx), sid(ctx)];
        return uploadState(await guardAsync(ctx, () => ingest.putPart(serverId, sessionId, n, ctx.raw)));
      },
    },
    {
      method: "POST", path: "/v1/recordings/:sid/complete",
      handler: async (ctx) => {
        const [serverId, sessionId] = [node(ctx), sid(ctx)];
        const b = asBody(ctx.body);
        const parts = b.parts;
        if (!Number.isInteger(parts) || (parts as number) < 0) throw badRequest("parts: expected a part count");
        const interrupted = bool(b, "interrupted");
        return uploadState(await guardAsync(ctx, () => ingest.complete(serverId, sessionId, parts as number, interrupted)));
      },
    },
    {
      method: "POST", path: "/v1/recordings/:sid/corrupt",
      handler: async (ctx) => {
        const [serverId, sessionId] = [node(ctx), sid(ctx)];
        const reason = clipped(asBody(ctx.body), "reason", 500).value;
        return uploadState(await guardAsync(ctx, () => ingest.reportCorrupt(serverId, sessionId, reason)));
      },
    },
    {
      method: "GET", path: "/v1/recordings",
      handler: async (ctx) => {
        ctx.authorize("recording", "list");
        const q = ctx.url.searchParams;
        const limit = Math.min(Number(q.get("limit") ?? "100"), MAX_PAGE);
        if (!Number.isInteger(limit) || limit < 1) throw badRequest("limit: expected a positive integer");
        const state = q.get("state") ?? undefined;
        if (state && !["open", "complete", "corrupt"].includes(state)) throw badRequest("state: expected open, complete or corrupt");
        return (await ctx.svc.store.recordings.listRecordings({ limit, user: q.get("user") ?? undefined, serverId: q.get("node") ?? undefined, state: state as RecordingRecord["state"] }))
          .map(recordingView);
      },
    },
    {
      method: "GET", path: "/v1/recordings/usage",
      handler: async (ctx) => {
        ctx.authorize("recording", "list");
        const days = Number(ctx.url.searchParams.get("days") ?? "30");
        if (!Number.isInteger(days) || days < 1 || days > 366) throw badRequest("days: expected 1 to 366");
        return usageView(await ctx.svc.store.recordings.usage(new Date(ctx.svc.now().getTime() - days * DAY_MS)), days);
      },
    },
    {
      method: "GET", path: "/v1/recordings/:sid",
      handler: async (ctx) => {
        ctx.authorize("recording", "read");
        return recordingView(await found(ctx));
      },
    },
    {
      method: "GET", path: "/v1/recordings/:sid/download",
      handler: async (ctx) => {
        ctx.authorize("recording", "read");
        const r = await found(ctx);
        if (r.state === "open") throw conflict(`recording ${r.sessionId} is still being uploaded (${r.nextPart - 1} parts so far)`);
        const obj = await guardAsync(ctx, () => ingest.storage.open(r.key));
        if (!obj) throw notFound(`recording ${r.sessionId} is listed but its object is missing from storage`);
        // Auditors are audited too: who watched or took a copy of which session.
        await ctx.svc.audit({ event: "session.recording.access", code: "T2012I", user: actor(ctx), sid: r.sessionId, server_id: r.serverId, session_user: r.user });
        return new Response(obj.body, {
          headers: { "content-type": "application/gzip", "content-length": String(obj.size), "x-hostward-recording-state": recordingState(r) },
        });
      },
    },
    {
      method: "DELETE", path: "/v1/recordings/:sid",
      handler: async (ctx) => {
        ctx.authorize("recording", "delete");
        const id = sid(ctx);
        if (!(await guardAsync(ctx, () => ingest.remove(id, actor(ctx))))) throw notFound(`no recording of session ${id}`);
        return { deleted: id };
      },
    },
  ];
}

/** complete, interrupted, corrupt or uploading: what `ctl recordings ls` and `sessions ls` show. */
export function recordingState(r: RecordingRecord): string {
  if (r.state === "open") return "uploading";
  if (r.state === "corrupt") return "corrupt";
  return r.interrupted ? "interrupted" : "complete";
}

function recordingView(r: RecordingRecord) {
  return {
    session_id: r.sessionId, server_id: r.serverId, user: r.user, login: r.login, kind: r.kind,
    ...(r.command !== undefined ? { command: r.command } : {}), mode: r.mode,
    ...Object.fromEntries((r.truncated ?? []).map((f) => [`${f}_truncated`, true])),
    started: r.startedAt.toISOString(), duration_ms: r.durationMs, state: recordingState(r), bytes: r.bytes, events: r.events,
    ...(r.reason ? { reason: r.reason } : {}), ...(r.completedAt ? { completed: r.completedAt.toISOString() } : {}),
  };
}

/** The growth rate is the window's mean per day; the projection adds 90 days of it to today's total. */
function usageView(u: RecordingUsage, days: number) {
  const windowBytes = u.days.reduce((sum, d) => sum + d.bytes, 0);
  const perDay = windowBytes / days;
  return {
    total_bytes: u.total.bytes, total_recordings: u.total.recordings, days: u.days, window_days: days,
    nodes: u.nodes.map((n) => ({ server_id: n.serverId, bytes: n.bytes, recordings: n.recordings })),
    growth_bytes_per_day: Math.round(perDay), projected_bytes_90d: Math.round(u.total.bytes + perDay * 90),
  };
}

function uploadState(r: RecordingRecord) {
  return { next: r.nextPart, state: r.state };
}

function node(ctx: RouteContext): string {
  if (ctx.caller.kind !== "node") throw forbidden("this endpoint is for nodes");
  return ctx.caller.serverId;
}

function sid(ctx: RouteContext): string {
  const id = ctx.params.sid!;
  if (!isSessionId(id)) throw badRequest(badSessionIdMessage(id));
  return id;
}

async function found(ctx: RouteContext): Promise<RecordingRecord> {
  const id = sid(ctx);
  const r = await ctx.svc.store.recordings.getRecording(id);
  if (!r) throw notFound(`no recording of session ${id}`);
  return r;
}

async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw e instanceof IngestError ? new HttpError(e.status, e.message) : e;
  }
}

/** IngestError → its status; a storage failure → 503 (the agent keeps the data and retries); anything else stays a 500. */
async function guardAsync<T>(ctx: RouteContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof IngestError) throw new HttpError(e.status, e.message);
    if (!(e instanceof StorageError)) throw e;
    ctx.svc.log.warn("recording storage failed", { path: ctx.url.pathname, error: e });
    throw new HttpError(503, `recording storage is unavailable: ${e.message.slice(0, 200)}`);
  }
}
