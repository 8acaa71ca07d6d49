// `bun run bench [NAME…]`: runs the named benchmark modules (all of them by default) in
// order. Each module exports `run(): Promise<object>`, prints its own table and writes
// its own bench/results/<name>.json. Add new modules to MODULES.

interface BenchModule {
  run(): Promise<object>;
}

const MODULES: Record<string, () => Promise<BenchModule>> = {
  foundation: () => import("./foundation.ts"),
  forwarding: () => import("./forwarding.ts"),
  "session-control": () => import("./session-control.ts"),
  recording: () => import("./recording.ts"),
  locks: () => import("./locks.ts"),
  interop: () => import("./interop.ts"),
  cli: () => import("./cli.ts"),
  "agent-memory": () => import("./agent-memory.ts"),
  latency: () => import("./latency.ts"),
  ha: () => import("./ha.ts"),
  store: () => import("./store.ts"),
  console: () => import("./console.ts"),
};

async function main(args: string[]): Promise<number> {
  const names = args.length ? args : Object.keys(MODULES);
  const unknown = names.filter((n) => !(n in MODULES));
  if (unknown.length) {
    console.error(`bench: unknown benchmark ${unknown.join(", ")}; known: ${Object.keys(MODULES).join(", ")}`);
    return 2;
  }
  let failed = 0;
  for (const name of names) {
    console.log(`== ${name}`);
    try {
      await (await MODULES[name]!()).run();
    } catch (e) {
      failed++;
      console.error(`bench: ${name} failed: ${(e as Error).message}`);
      if (process.env.HOSTWARD_DEBUG) console.error((e as Error).stack);
    }
  }
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code));
