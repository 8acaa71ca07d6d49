// Typed reading of one table of a parsed TOML or JSON document, for config and resources.
// Every error is a ValidationError naming the file and the dotted key (`allow.rules[0].verbs[1]`).

import { parseDuration, type Duration } from "./duration.ts";
import { parseRfc3339 } from "./rfc3339.ts";
import { ValidationError } from "./validation-error.ts";

export type Table = Record<string, unknown>;
export type Allowed = readonly string[] | "any";

let _observer: ((path: string, allowed: readonly string[]) => void) | undefined;

/**
 * Tells fn the keys each strict table accepts as documents are parsed (undefined stops it),
 * so docs/configuration.md can be checked against what the parsers really accept.
 */
export function observeAllowedKeys(fn: ((path: string, allowed: readonly string[]) => void) | undefined): void {
  _observer = fn;
}

export class TableReader {
  private constructor(
    readonly file: string,
    readonly path: string,
    private readonly t: Table,
  ) {}

  /** Checks that value is a table holding only the allowed keys ("any" for free-form maps such as labels). */
  static of(value: unknown, file: string, path: string, allowed: Allowed): TableReader {
    if (!isTable(value)) throw new ValidationError(file, path, `expected a table, got ${describe(value)}`);
    const reader = new TableReader(file, path, value);
    if (_observer && allowed !== "any") _observer(path, allowed);
    for (const k of Object.keys(value)) {
      if (allowed !== "any" && !allowed.includes(k)) reader.fail(k, "unknown key");
    }
    return reader;
  }

  key(k: string): string {
    return joinKey(this.path, k);
  }

  fail(k: string, reason: string): never {
    throw new ValidationError(this.file, this.key(k), reason);
  }

  /** The raw value; null counts as absent so JSON clients may send it for optional keys. */
  raw(k: string): unknown {
    return this.t[k] ?? undefined;
  }

  string(k: string): string | undefined {
    const v = this.raw(k);
    if (v === undefined) return undefined;
    if (typeof v !== "string") this.fail(k, `expected a string, got ${describe(v)}`);
    return v;
  }

  requiredString(k: string): string {
    const v = this.string(k);
    if (v === undefined) this.fail(k, "required");
    return v;
  }

  bool(k: string): boolean | undefined {
    const v = this.raw(k);
    if (v !== undefined && typeof v !== "boolean") this.fail(k, `expected true or false, got ${describe(v)}`);
    return v;
  }

  positiveInt(k: string): number | undefined {
    const v = this.raw(k);
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) {
      this.fail(k, `must be a positive integer, got ${describe(v)}`);
    }
    return v;
  }

  oneOf<T extends string>(k: string, values: readonly T[]): T | undefined {
    const v = this.string(k);
    if (v === undefined || (values as readonly string[]).includes(v)) return v as T | undefined;
    this.fail(k, `must be one of ${values.map((x) => JSON.stringify(x)).join(", ")}, got ${describe(v)}`);
  }

  /** A Go-style duration string that must be greater than zero. */
  duration(k: string): Duration | undefined {
    const v = this.raw(k);
    if (v === undefined) return undefined;
    if (typeof v !== "string") this.fail(k, `expected a duration like "8h", got ${describe(v)}`);
    let d: Duration;
    try {
      d = parseDuration(v);
    } catch (e) {
      this.fail(k, (e as Error).message);
    }
    if (d <= 0) this.fail(k, `must be greater than zero, got ${describe(v)}`);
    return d;
  }

  /** An RFC 3339 string or a TOML offset date-time. */
  date(k: string): Date | undefined {
    const v = this.raw(k);
    if (v === undefined) return undefined;
    const d = v instanceof Date && !_isLocalTomlDate(v) ? v : typeof v === "string" ? parseRfc3339(v) : undefined;
    if (d === undefined || Number.isNaN(d.getTime())) {
      this.fail(k, `expected an RFC 3339 date like "2026-12-01T22:27:00Z", got ${describe(v)}`);
    }
    return new Date(d.getTime());
  }

  /** An array of strings, each checked by `check` (which returns a reason or undefined). */
  stringList(k: string, check?: (s: string) => string | undefined): string[] | undefined {
    const v = this.raw(k);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) this.fail(k, `expected an array of strings, got ${describe(v)}`);
    return v.map((item, i) => {
      if (typeof item !== "string") this.fail(`${k}[${i}]`, `expected a string, got ${describe(item)}`);
      const why = check?.(item);
      if (why !== undefined) this.fail(`${k}[${i}]`, why);
      return item;
    });
  }

  table(k: string, allowed: Allowed): TableReader | undefined {
    const v = this.raw(k);
    return v === undefined ? undefined : TableReader.of(v, this.file, this.key(k), allowed);
  }

  /** An array of tables (TOML `[[k]]`), each read with the allowed keys. */
  tableList(k: string, allowed: readonly string[]): TableReader[] | undefined {
    const v = this.raw(k);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) this.fail(k, `expected an array of tables, got ${describe(v)}`);
    return v.map((item, i) => TableReader.of(item, this.file, this.key(`${k}[${i}]`), allowed));
  }

  keys(): string[] {
    return Object.keys(this.t).filter((k) => this.raw(k) !== undefined);
  }
}

export function isTable(v: unknown): v is Table {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Joins a dotted path: ("allow", "rules[0]") → "allow.rules[0]". */
export function joinKey(path: string, k: string): string {
  return path === "" ? k : `${path}.${k}`;
}

/** Describes a bad value for a message: 3, "text", true, an array, a table, a date. */
export function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? v.slice(0, 60) + "…" : v);
  if (typeof v === "bigint") return "a number too large";
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v === null || v === undefined) return "nothing";
  if (Array.isArray(v)) return "an array";
  if (v instanceof Date) return _isLocalTomlDate(v) ? "a date without a time zone" : "a date";
  return "a table";
}

function _isLocalTomlDate(d: Date): boolean {
  const flags = d as unknown as { isFloating?: boolean; isDate?: boolean; isTime?: boolean };
  return Boolean(flags.isFloating || flags.isDate || flags.isTime);
}
