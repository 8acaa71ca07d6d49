// Forwarding in the audit log: `port` with code T3003I when a forwarded connection
// opens, T3003S with its bytes each way when it closes, T3003E when one is refused.
import type { AuditOutbox } from "../audit-outbox.ts";
import type { ForwardEvents } from "./forward-types.ts";

export const PORT_EVENT = "port";
export const PORT_START_CODE = "T3003I";
export const PORT_STOP_CODE = "T3003S";
export const PORT_FAILURE_CODE = "T3003E";

export function forwardAudit(outbox: Pick<AuditOutbox, "emit">): ForwardEvents {
  return {
    opened: (c, f) => outbox.emit({
      event: PORT_EVENT, code: PORT_START_CODE, user: c.subject.user, login: c.subject.login,
      fid: f.id, forward_kind: f.kind, source: f.source, destination: f.destination,
    }),
    closed: (c, f, bytes) => outbox.emit({
      event: PORT_EVENT, code: PORT_STOP_CODE, user: c.subject.user, login: c.subject.login,
      fid: f.id, forward_kind: f.kind, source: f.source, destination: f.destination,
      bytes_from_client: bytes.toNode, bytes_to_client: bytes.toClient,
    }),
    refused: (c, f, reason) => outbox.emit({
      event: PORT_EVENT, code: PORT_FAILURE_CODE, user: c.subject.user, login: c.subject.login,
      forward_kind: f.kind, source: f.source, destination: f.destination, reason,
    }),
  };
}
