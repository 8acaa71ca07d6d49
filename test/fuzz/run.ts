// `bun run fuzz [--count N] [--time SECONDS] [--seed N] [--target NAME]`: runs every
// fuzz target (100,000 inputs each by default, seed 1) and exits 1 on any crash or hang,
// printing each finding's input in base64 so it can be replayed.
import { parseArgs } from "node:util";
import { fuzzTarget } from "./engine.ts";
import { TARGETS } from "./targets.ts";

const { values: v } = parseArgs({ options: {
  count: { type: "string" }, time: { type: "string" }, seed: { type: "string" }, target: { type: "string" }, "per-input-ms": { type: "string" },
} });
const count = Number(v.count ?? 100_000);
const seed = Number(v.seed ?? 1);
const timeMs = v.time ? Number(v.time) * 1000 : undefined;
const perInputMs = Number(v["per-input-ms"] ?? 2000);
const targets = v.target ? TARGETS.filter((t) => t.name === v.target) : TARGETS;
if (targets.length === 0) throw new Error(`no target named ${v.target}; targets: ${TARGETS.map((t) => t.name).join(", ")}`);

console.log(`fuzz: seed ${seed}, ${count} inputs per target${timeMs ? `, at most ${timeMs / 1000} s each` : ""}, hang over ${perInputMs} ms`);
let bad = 0;
for (const t of targets) {
  const r = fuzzTarget(t, { seed, count, timeMs, perInputMs });
  bad += r.crashes + r.hangs;
  console.log(`${t.name.padEnd(20)} ${String(r.inputs).padStart(7)} inputs  ${String(r.refused).padStart(7)} refused  ${r.crashes} crashes  ${r.hangs} hangs  ${(r.ms / 1000).toFixed(1)} s`);
  for (const f of r.findings) console.log(`  ${f.kind}: ${f.detail.split("\n").slice(0, 4).join(" | ")}\n    input (base64): ${Buffer.from(f.input).toString("base64").slice(0, 400)}`);
}
console.log(bad === 0 ? "fuzz: 0 crashes, 0 hangs" : `fuzz: ${bad} findings`);
process.exit(bad === 0 ? 0 : 1);
