// Typed reads of JSON request bodies: each failure is a 400 naming the field.
import { parseDuration, type Duration } from "../core/duration.ts";
import { badRequest } from "./http-error.ts";

export type Body = Record<string, unknown>;

export function asBody(v: unknown): Body {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw badRequest("request body must be a JSON object");
  return v as Body;
}

export function str(b: Body, key: string, opts: { optional?: boolean; max?: number } = {}): string {
  const v = b[key];
  if (v === undefined && opts.optional) return "";
  if (typeof v !== "string" || (!opts.optional && v === "")) throw badRequest(`${key}: expected a non-empty string`);
  if (v.length > (opts.max ?? 4096)) throw badRequest(`${key}: longer than ${opts.max ?? 4096} characters`);
  return v;
}

/** A string field cut to `max` characters rather than refused (for evidence that must be kept). */
export function clipped(b: Body, key: string, max: number, optional = false): { value: string; truncated: boolean } {
  const v = b[key];
  if (v === undefined && optional) return { value: "", truncated: false };
  if (typeof v !== "string" || (!optional && v === "")) throw badRequest(`${key}: expected a non-empty string`);
  if (v.length <= max) return { value: v, truncated: false };
  // Never cut a surrogate pair in half: the stored text stays valid UTF-16/UTF-8.
  const end = /[\uD800-\uDBFF]/.test(v[max - 1]!) ? max - 1 : max;
  return { value: v.slice(0, end), truncated: true };
}

export function bool(b: Body, key: string): boolean {
  const v = b[key] ?? false;
  if (typeof v !== "boolean") throw badRequest(`${key}: expected true or false`);
  return v;
}

export function duration(b: Body, key: string, fallback: string): Duration {
  const v = b[key] ?? fallback;
  if (typeof v !== "string") throw badRequest(`${key}: expected a duration such as "30m"`);
  try {
    return parseDuration(v);
  } catch (e) {
    throw badRequest(`${key}: ${(e as Error).message}`);
  }
}

export function labels(b: Body, key: string): Record<string, string> {
  const v = b[key] ?? {};
  if (typeof v !== "object" || v === null || Array.isArray(v) || Object.values(v).some((x) => typeof x !== "string")) {
    throw badRequest(`${key}: expected an object of string values`);
  }
  return v as Record<string, string>;
}
