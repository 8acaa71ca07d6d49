// Every parser that takes bytes from outside, fuzzed at a small budget on each test run
// (`bun run fuzz` runs 100,000 inputs per target): no crash, no hang.
import { expect, test } from "bun:test";
import { fuzzTarget } from "../fuzz/engine.ts";
import { TARGETS } from "../fuzz/targets.ts";

for (const t of TARGETS) {
  test(`fuzz ${t.name}: no crash or hang`, () => {
    const r = fuzzTarget(t, { seed: 1, count: 2000, timeMs: 400, perInputMs: 2000 });
    expect(r.inputs).toBeGreaterThan(t.seeds.length);
    // Every seed is valid input: the target really parses, it does not refuse everything.
    expect(r.refused).toBeLessThan(r.inputs);
    expect(r.findings.map((f) => `${f.kind}: ${f.detail.split("\n")[0]}`)).toEqual([]);
  });
}

test("the fuzzer finds a crash when there is one", () => {
  const r = fuzzTarget({ name: "planted", seeds: [new Uint8Array([1, 2, 3])], run: (b) => { if (b.includes(0xff)) throw new TypeError("planted"); }, expected: () => false },
    { seed: 1, count: 5000, perInputMs: 2000 });
  expect(r.crashes).toBeGreaterThan(0);
  expect(r.findings[0]!.detail).toContain("planted");
});
