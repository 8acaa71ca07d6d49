// The import graph of src/: which file imports which, file cycles, and the folder-level
// graph (src/auth, src/agent, ...). `bun scripts/import-graph.ts` prints both; the unit
// test test/unit/import-graph.test.ts fails on any cycle or any two folders importing each other.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g;

export interface ImportGraph {
  files: Map<string, string[]>;
  folders: Map<string, Set<string>>;
}

/** Relative imports of every .ts file under srcDir, keyed by path relative to srcDir. */
export function importGraph(srcDir: string): ImportGraph {
  const files = new Map<string, string[]>();
  for (const name of readdirSync(srcDir, { recursive: true, encoding: "utf8" })) {
    if (!name.endsWith(".ts")) continue;
    const text = readFileSync(join(srcDir, name), "utf8");
    const deps: string[] = [];
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2]!;
      deps.push(relative(srcDir, resolve(srcDir, dirname(name), spec)));
    }
    files.set(name, deps);
  }
  const folders = new Map<string, Set<string>>();
  for (const [file, deps] of files) {
    const from = folderOf(file);
    for (const d of deps) {
      const to = folderOf(d);
      if (to === from) continue;
      if (!folders.has(from)) folders.set(from, new Set());
      folders.get(from)!.add(to);
    }
  }
  return { files, folders };
}

/** The top folder a file belongs to (`auth`, `agent`, …); files directly in src/ are `.`. */
export function folderOf(file: string): string {
  const i = file.indexOf("/");
  return i < 0 ? "." : file.slice(0, i);
}

/** Every cycle found by depth-first search, each as the list of nodes around it. */
export function cycles(graph: Map<string, Iterable<string>>): string[][] {
  const out: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, "open");
    stack.push(n);
    for (const d of graph.get(n) ?? []) {
      if (state.get(d) === "open") out.push([...stack.slice(stack.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, "done");
  };
  for (const n of graph.keys()) if (!state.has(n)) visit(n);
  return out;
}

if (import.meta.main) {
  const g = importGraph(join(import.meta.dir, "..", "src"));
  for (const [from, tos] of [...g.folders].sort()) console.log(`${from} -> ${[...tos].sort().join(", ")}`);
  const fileCycles = cycles(g.files);
  const folderCycles = cycles(g.folders);
  for (const c of [...fileCycles, ...folderCycles]) console.log(`cycle: ${c.join(" -> ")}`);
  if (fileCycles.length + folderCycles.length === 0) console.log("no cycles");
  process.exitCode = fileCycles.length + folderCycles.length === 0 ? 0 : 1;
}
