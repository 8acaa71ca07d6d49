// src/ has no import cycle between files, no two folders import each other, and the
// pure and shared layers stay below the programs.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { cycles, importGraph } from "../../scripts/import-graph.ts";

const g = importGraph(join(import.meta.dir, "..", "..", "src"));

describe("import graph of src/", () => {
  test("finds the files and their imports", () => {
    expect(g.files.size).toBeGreaterThan(50);
    expect(g.files.get("cli.ts")!.length).toBeGreaterThan(0);
  });

  test("no cycle between files", () => {
    expect(cycles(g.files)).toEqual([]);
  });

  test("no two folders import each other, directly or around a loop", () => {
    expect(cycles(g.folders)).toEqual([]);
  });

  test("core imports nothing outside core; platform only core", () => {
    expect([...(g.folders.get("core") ?? [])]).toEqual([]);
    expect([...(g.folders.get("platform") ?? [])].filter((f) => f !== "core")).toEqual([]);
  });

  test("the detector sees a cycle when there is one", () => {
    expect(cycles(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]]]))).toEqual([["a", "b", "c", "a"]]);
  });
});
