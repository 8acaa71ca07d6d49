// Why a person may not do something on the API, as data: the kind travels to the
// api.denied audit event, the message to the caller; nothing parses the message.
import type { ApiResource, Verb } from "../core/resource-types.ts";

export interface ApiRefusal {
  resource: ApiResource;
  verb: Verb;
  /** rules: outside the caller's role rules; escalation: would grant what the caller does not hold. */
  reason: "rules" | "escalation";
  message: string;
}
