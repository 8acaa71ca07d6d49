// The `since` query parameter of list routes: a duration back from now ("1h") or an
// RFC 3339 time; anything else is a 400 that quotes (a bounded piece of) the input.
import { parseDuration } from "../../core/duration.ts";
import { badRequest } from "../http-error.ts";

export function sinceDate(s: string, now: Date): Date {
  try {
    return new Date(now.getTime() - parseDuration(s));
  } catch {
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) throw badRequest(`since: expected a duration ("1h") or an RFC 3339 time, got ${JSON.stringify(s.slice(0, 40))}`);
    return d;
  }
}
