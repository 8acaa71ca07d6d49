// `npm test`: builds dist/hostward once, then runs every test file in its own `bun test`
// process, a few at a time (longest first), and prints one summary line for CI.
// Usage: bun scripts/test.ts [FILE_OR_DIR ...]   (HOSTWARD_TEST_JOBS=N, default 3)
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

const ROOT = join(import.meta.dir, "..");
const DURATIONS = join(ROOT, "node_modules", ".cache", "hostward-test-durations.json");
const JOBS = Math.max(1, Number(process.env.HOSTWARD_TEST_JOBS ?? 3) || 3);
// Files first run without a recorded duration: the slow families go first.
const DEFAULT_SECONDS: [RegExp, number][] = [[/^test\/(integration|hostile|web|ha)\//, 60], [/^test\/install\//, 45], [/./, 5]];

interface FileResult { file: string; code: number; pass: number; fail: number; seconds: number; output: string }

function testFiles(args: string[]): string[] {
  const roots = args.length ? args : ["test"];
  const out: string[] = [];
  for (const r of roots) {
    const abs = join(ROOT, r);
    if (statSync(abs).isFile()) out.push(relative(ROOT, abs));
    else for (const f of readdirSync(abs, { recursive: true, encoding: "utf8" })) if (f.endsWith(".test.ts")) out.push(relative(ROOT, join(abs, f)));
  }
  return [...new Set(out)].sort();
}

function expected(file: string, known: Record<string, number>): number {
  return known[file] ?? DEFAULT_SECONDS.find(([re]) => re.test(file))![1];
}

async function runFile(file: string, bun: string): Promise<FileResult> {
  const t0 = performance.now();
  const p = Bun.spawn([bun, "test", "--timeout", "120000", `./${file}`], {
    cwd: ROOT, env: { ...process.env, HOSTWARD_TEST_BUILT: "1" }, stdout: "pipe", stderr: "pipe", stdin: "ignore",
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  const output = out + err;
  const count = (word: string) => Number(new RegExp(`^ (\\d+) ${word}$`, "m").exec(output)?.[1] ?? 0);
  return { file, code, pass: count("pass"), fail: count("fail"), seconds: (performance.now() - t0) / 1000, output };
}

async function main(): Promise<number> {
  const bun = process.execPath;
  const build = Bun.spawnSync(["sh", join(ROOT, "scripts", "build.sh")], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) {
    console.error(`scripts/build.sh failed:\n${build.stderr.toString()}`);
    return 1;
  }
  const known: Record<string, number> = existsSync(DURATIONS) ? JSON.parse(readFileSync(DURATIONS, "utf8")) : {};
  const queue = testFiles(process.argv.slice(2)).sort((a, b) => expected(b, known) - expected(a, known));
  console.log(`running ${queue.length} test files, ${JOBS} at a time, against dist/hostward`);
  const results: FileResult[] = [];
  const t0 = performance.now();
  await Promise.all(Array.from({ length: JOBS }, async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const r = await runFile(f, bun);
      results.push(r);
      const ok = r.code === 0 && r.fail === 0;
      console.log(`${ok ? "ok  " : "FAIL"} ${r.file}  ${r.pass} pass, ${r.fail} fail, ${r.seconds.toFixed(1)} s`);
      if (!ok) console.log(r.output.split("\n").map((l) => `  | ${l}`).join("\n"));
    }
  }));
  for (const r of results) known[r.file] = Math.round(r.seconds);
  mkdirSync(dirname(DURATIONS), { recursive: true });
  writeFileSync(DURATIONS, JSON.stringify(known, null, 1));
  const pass = results.reduce((n, r) => n + r.pass, 0);
  // A file that failed without a counted failure (a crash, an error outside a test) counts as one.
  const fail = results.reduce((n, r) => n + (r.fail || (r.code !== 0 ? 1 : 0)), 0);
  const bad = results.filter((r) => r.code !== 0 || r.fail > 0).map((r) => r.file);
  console.log(`\n${results.length} files in ${((performance.now() - t0) / 1000).toFixed(0)} s${bad.length ? `; failed: ${bad.join(", ")}` : ""}`);
  console.log(`${pass} passed, ${fail} failed`);
  return fail === 0 ? 0 : 1;
}

process.exit(await main());
