// Keeps the session inventory from the audit events agents ship: the
// inventory is a view of the event log, so an event delivered twice changes nothing
// and an outage only delays it. session.start/end open and close a row; refusals
// (session.rejected, sessctl.limit) add one; client.disconnect with a session id notes why.
import { asRefusalKind } from "../core/refusal-kind.ts";
import { sessctlLimitMessage, type SessctlKind } from "../core/session-control-messages.ts";
import type { SessionInventory } from "./session-inventory.ts";
import type { AuditEvent } from "./store.ts";

export async function applySessionEvent(inv: SessionInventory, e: AuditEvent & { server_id: string }): Promise<void> {
  const base = { node: e.server_id, user: text(e.user), login: text(e.login) };
  const time = new Date(e.time);
  switch (e.event) {
    case "session.start": {
      const id = text(e.sid);
      if (id) await inv.started({ ...base, id, kind: text(e.session_kind), start: time, recorded: typeof e.recorded === "boolean" ? e.recorded : undefined });
      return;
    }
    case "session.end": {
      const id = text(e.sid);
      if (!id) return;
      await inv.ended({ ...base, id, end: time });
      // The agent cut it (client disconnected, lock, max_session_ttl, …): the end says why.
      const reason = text(e.reason);
      if (reason) await inv.noteReason(id, reason);
      return;
    }
    case "session.rejected": {
      const reason = text(e.reason) ?? "refused";
      await inv.rejected({ ...base, id: e.uid, time, reason, reasonKind: asRefusalKind(e.reason_kind) });
      return;
    }
    case "sessctl.limit": {
      const kind: SessctlKind = e.sessctl_kind === "session" ? "session" : "connection";
      const max = typeof e.max === "number" ? e.max : 0;
      await inv.rejected({ ...base, id: e.uid, time, reason: sessctlLimitMessage(kind, base.user ?? "", max), reasonKind: `max_${kind}s` });
      return;
    }
    case "client.disconnect": {
      const id = text(e.sid);
      const reason = text(e.reason);
      if (id && reason) await inv.noteReason(id, reason);
      return;
    }
  }
}

function text(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}
