// What `hostward version` and `hostward ctl get` evaluate before they do their work, read
// from the same split bundle scripts/build.sh compiles: built-in modules that cost CPU at
// every start (node:crypto and the stream classes it pulls in, node:net, zlib, http…) are
// loaded only by the commands that use them.
import { expect, test } from "bun:test";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const HEAVY = ["crypto", "node:crypto", "net", "node:net", "dns", "dns/promises", "node:dns/promises", "zlib", "node:zlib", "stream", "node:stream", "http", "node:http", "https", "tls", "bun:sqlite", "ssh2", "@iarna/toml"];

const built = await Bun.build({
  entrypoints: [join(ROOT, "src/cli.ts"), join(ROOT, "src/agent/recording/encoder-worker.ts")],
  target: "bun", splitting: true, minify: { whitespace: true, syntax: true }, naming: { entry: "[name].[ext]", chunk: "[name]-[hash].[ext]" },
});
const chunks = new Map<string, string>();
for (const o of built.outputs) if (o.path.endsWith(".js")) chunks.set(o.path.replace(/^\.\//, ""), await o.text());

const STATIC = /(?:^|[;}\s])(?:import|export)\s*(?:[\w$*{},\s]*?\s*from\s*)?["']([^"']+)["']/g;
const DYNAMIC = /import\(["']\.\/([^"']+)["']\)/g;

/** Every chunk evaluated when `start` is, and the bare (built-in or package) modules they import. */
function closure(start: string): { chunks: string[]; modules: Set<string> } {
  const seen: string[] = [];
  const modules = new Set<string>();
  const visit = (name: string) => {
    if (seen.includes(name)) return;
    seen.push(name);
    for (const [, spec] of chunks.get(name)!.matchAll(STATIC)) {
      if (spec!.startsWith("./")) visit(spec!.slice(2));
      else modules.add(spec!);
    }
  };
  visit(start);
  return { chunks: seen, modules };
}

/** The chunk a dynamic `import()` in `from` loads, found by its file name's stem. */
function dynamicChunk(from: string, stem: string): string {
  const found = [...new Set([...chunks.get(from)!.matchAll(DYNAMIC)].map((m) => m[1]!))].filter((n) => n.startsWith(`${stem}-`));
  expect(found).toHaveLength(1);
  return found[0]!;
}

test("the bundle builds and the walk finds imports", () => {
  expect(built.success).toBe(true);
  const everything = new Set([...chunks.keys()].flatMap((c) => [...closure(c).modules]));
  expect(everything.has("crypto") || everything.has("node:crypto")).toBe(true); // the check can fail
});

test("`hostward version` evaluates no heavy built-in module", () => {
  const { modules } = closure("cli.js");
  expect([...modules].filter((m) => HEAVY.includes(m))).toEqual([]);
});

test("`hostward ctl get` loads neither node:crypto, node:net, node:dns nor streams", () => {
  const ctl = dynamicChunk("cli.js", "ctl");
  const resources = dynamicChunk(ctl, "resources");
  const modules = new Set([...closure(ctl).modules, ...closure(resources).modules]);
  expect([...modules].filter((m) => HEAVY.includes(m))).toEqual([]);
});
