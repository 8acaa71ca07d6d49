// `--help` on every command and subcommand prints its usage on stdout and exits 0, at
// any depth and after global flags; every ctl command has a usage entry.
import { expect, test } from "bun:test";
import { CTL_USAGE } from "../../src/ctl/ctl.ts";
import { USAGES } from "../../src/platform/command-usage.ts";
import { CLI, run } from "../helpers/process.ts";

test("every ctl command has a usage text", () => {
  const commands = /commands: (.*)/.exec(CTL_USAGE)![1]!.split(", ");
  expect(commands.length).toBeGreaterThan(10);
  for (const c of commands) expect(USAGES[`ctl ${c}`]).toBeDefined();
});

test("--help on every command and subcommand prints its usage and exits 0", async () => {
  const paths = Object.keys(USAGES);
  const results = await Promise.all(paths.map(async (p) => ({ p, r: await run([...CLI, ...(p ? p.split(" ") : []), "--help"]) })));
  for (const { p, r } of results) {
    expect({ p, code: r.code, stderr: r.stderr }).toEqual({ p, code: 0, stderr: "" });
    expect(r.stdout.startsWith(p === "auth" || p === "agent" ? `usage: hostward ${p} start` : `usage: hostward ${p}`.trimEnd())).toBe(true);
  }
});

test("help after flags and values, -h, and `hostward help WORDS`", async () => {
  const cases: [string[], string][] = [
    [["ctl", "--identity", "/nonexistent", "lock", "--user", "x", "--help"], USAGES["ctl lock"]!],
    [["ctl", "lock", "-h"], USAGES["ctl lock"]!],
    [["help", "ctl", "users", "sign"], USAGES["ctl users sign"]!],
    [["agent", "start", "--config", "/nonexistent", "--help"], USAGES["agent start"]!],
    [["--help"], USAGES[""]!],
  ];
  for (const [argv, want] of cases) {
    const r = await run([...CLI, ...argv]);
    expect({ argv, code: r.code, out: r.stdout }).toEqual({ argv, code: 0, out: want + "\n" });
  }
});

test("an unknown option still fails with the usage, exit 2", async () => {
  const r = await run([...CLI, "ctl", "lock", "--colour", "blue"]);
  expect(r.code).toBe(2);
});
