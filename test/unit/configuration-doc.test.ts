// docs/configuration.md cannot drift from the parsers: its examples parse, and every key
// a parser accepts appears in the doc's key tables and in the example of its file.
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAgentConfig, parseAuthConfig, parseConfigText } from "../../src/core/config.ts";
import { parseResourceText } from "../../src/core/resources.ts";
import { observeAllowedKeys } from "../../src/core/table-reader.ts";

const DOC = readFileSync(join(import.meta.dir, "..", "..", "docs", "configuration.md"), "utf8");

/** The fenced ```toml NAME blocks of the doc, by NAME. */
function examples(): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of DOC.matchAll(/```toml (\S+)\n([\s\S]*?)```/g)) out.set(m[1]!, m[2]!);
  return out;
}

/** Keys named in the doc's tables: the first cell of each row, as `a.b[].c`. */
function documentedKeys(): Set<string> {
  return new Set([...DOC.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!));
}

/** Every key path the parser accepted while parsing `parse()`. */
function acceptedKeys(parse: () => unknown): string[] {
  const keys: string[] = [];
  observeAllowedKeys((path, allowed) => {
    const base = path.replace(/\[\d+\]/g, "[]");
    for (const k of allowed) keys.push(base ? `${base}.${k}` : k);
  });
  try {
    parse();
  } finally {
    observeAllowedKeys(undefined);
  }
  return [...new Set(keys)];
}

/** Key paths present in a parsed TOML value (tables and arrays of tables walked). */
function presentKeys(v: unknown, prefix = ""): string[] {
  if (Array.isArray(v)) return v.flatMap((x) => presentKeys(x, `${prefix}[]`));
  if (typeof v !== "object" || v === null) return [];
  return Object.entries(v).flatMap(([k, x]) => {
    const key = prefix ? `${prefix}.${k}` : k;
    return [key, ...presentKeys(x, key)];
  });
}

afterEach(() => observeAllowedKeys(undefined));

const FILES: [string, (obj: unknown, file: string) => unknown][] = [
  ["auth.toml", parseAuthConfig],
  ["agent.toml", parseAgentConfig],
];

describe("docs/configuration.md", () => {
  const ex = examples();
  const documented = documentedKeys();

  for (const [name, parse] of FILES) {
    test(`${name}: the example parses, and every accepted key is documented and in the example`, () => {
      const text = ex.get(name);
      expect(text).toBeDefined();
      const obj = parseConfigText(text!, name);
      const accepted = acceptedKeys(() => parse(obj, name));
      expect(accepted.length).toBeGreaterThan(5);
      expect(accepted.filter((k) => !documented.has(k))).toEqual([]);
      const present = new Set(presentKeys(obj));
      expect(accepted.filter((k) => !present.has(k))).toEqual([]);
    });
  }

  for (const kind of ["role", "user", "lock", "cluster_config"]) {
    test(`${kind}: the example parses, and every accepted field is documented and in the example`, () => {
      const text = ex.get(kind);
      expect(text).toBeDefined();
      const accepted = acceptedKeys(() => parseResourceText(text!, `${kind}.toml`, { now: new Date("2026-11-30T00:00:00Z"), acceptExpired: true }));
      expect(accepted).toContain("kind");
      expect(accepted.filter((k) => !documented.has(k))).toEqual([]);
      const present = new Set(presentKeys(Bun.TOML.parse(text!)));
      expect(accepted.filter((k) => !present.has(k))).toEqual([]);
    });
  }

  test("the check notices an undocumented key", () => {
    const accepted = acceptedKeys(() => parseAuthConfig({ recordings: {} }, "x.toml"));
    expect(accepted).toContain("recordings.storage");
    expect(documented.has("no_such_key")).toBe(false);
  });
});
