// How the bench runs hostward. From the working tree (the default): dist/hostward,
// rebuilt first when missing or older than src/. From HEAD (HOSTWARD_BENCH_SOURCE=head,
// for when src/ holds unfinished edits): a `git archive HEAD` snapshot built in workDir.
// Plain `bun src/cli.ts` only when the build fails.
import { existsSync, mkdirSync, readdirSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { runCaptured, tail } from "./run-captured.ts";

const BUILD_TIMEOUT_MS = 120_000;
const SNAPSHOT_PATHS = ["src", "package.json", "tsconfig.json", "bunfig.toml"];

export type HostwardSource = "worktree" | "head";

export interface HostwardCommand {
  cmd: string[];
  mode: "compiled" | "source";
  source: HostwardSource;
  /** Whether src/ differs from HEAD (unfinished edits end up in a worktree build). */
  srcDirty: boolean;
  note: string;
}

/** The command that runs hostward; workDir is an empty scratch directory (for the HEAD snapshot). */
export async function hostwardCommand(root: string, source: HostwardSource, workDir: string): Promise<HostwardCommand> {
  // HOSTWARD_BENCH_BINARY: an already built binary (e.g. of an earlier commit), as is.
  const given = process.env.HOSTWARD_BENCH_BINARY;
  if (given) return { cmd: [given], mode: "compiled", source, srcDirty: false, note: `HOSTWARD_BENCH_BINARY=${given}` };
  const status = await runCaptured(["git", "status", "--porcelain", "--", "src"], 10_000, root);
  const srcDirty = status.code !== 0 || status.stdout.trim() !== "";
  const dir = source === "head" ? await snapshotHead(root, workDir) : root;
  const built = await buildIn(dir, join(root, "node_modules", ".bin", "bun"));
  return { ...built, source, srcDirty };
}

async function buildIn(dir: string, bun: string): Promise<Omit<HostwardCommand, "source" | "srcDirty">> {
  const binary = join(dir, "dist", "hostward");
  const fresh = existsSync(binary) && statSync(binary).mtimeMs >= newestMtime(join(dir, "src"));
  if (fresh) return { cmd: [binary], mode: "compiled", note: "dist/hostward, newer than src/" };
  const r = await runCaptured([bun, "run", "build"], BUILD_TIMEOUT_MS, dir);
  if (r.code === 0 && existsSync(binary)) return { cmd: [binary], mode: "compiled", note: "built with `bun run build` for this run" };
  const why = `bun run build failed (exit ${r.code}): ${tail(r.stderr || r.stdout, 200)}`;
  if (existsSync(binary)) return { cmd: [binary], mode: "compiled", note: `${why}; used the older dist/hostward` };
  return { cmd: [bun, join(dir, "src", "cli.ts")], mode: "source", note: `${why}; ran bun src/cli.ts instead` };
}

/** Exports HEAD's sources into workDir/hostward-head, sharing the checkout's node_modules. */
async function snapshotHead(root: string, workDir: string): Promise<string> {
  const dir = join(workDir, "hostward-head");
  mkdirSync(dir);
  const script = `git archive HEAD ${SNAPSHOT_PATHS.join(" ")} | tar -x -C "$1"`;
  const r = await runCaptured(["bash", "-o", "pipefail", "-c", script, "snapshot", dir], 60_000, root);
  if (r.code !== 0) throw new Error(`cannot export HEAD: ${tail(r.stderr)}`);
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  return dir;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir, { recursive: true, encoding: "utf8" })) {
    newest = Math.max(newest, statSync(join(dir, name)).mtimeMs);
  }
  return newest;
}
