// Interactive latency: keystroke → echo round trip through a PTY session, measured from
// the client side with a PTY (the OpenSSH client runs inside a Bun.Terminal, as a person's
// terminal), hostward (recording on, the default) beside stock sshd, keystrokes alternating
// between the two open sessions. Writes bench/results/latency.json and prints a table.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { hostwardCommand } from "./hostward-build.ts";
import { ensureTestAccount, TEST_LOGIN } from "../test/helpers/os-account.ts";
import { machineInfo } from "./machine-info.ts";
import { runCaptured } from "./run-captured.ts";
import { startSplitCluster, type SplitCluster } from "./split-cluster.ts";
import type { SshTarget } from "./ssh-client.ts";
import { ensureSshd, startSshd, type Sshd } from "./sshd.ts";
import { summarize } from "./stats.ts";
import { formatTable } from "./text-table.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RESULTS = join(ROOT, "bench", "results", "latency.json");
const KEYS = 400;
const WARMUP = 20;
const ECHO_TIMEOUT_MS = 5_000;
const READY_TIMEOUT_MS = 30_000;
const GOAL_P50_DELTA_MS = 1;
const ALPHABET = "abcdefghijklmnopqrstuvwxyz";

/**
 * An ssh client in a PTY running `cat` in a remote PTY set raw and -echo, so each key
 * goes to cat at once and cat's copy is the echo (the path a shell's echo takes).
 */
class PtySsh {
  readonly #terminal: Bun.Terminal;
  readonly proc: ReturnType<typeof Bun.spawn>;
  #seen = "";
  #waiter?: { want: string; resolve: () => void };

  constructor(t: SshTarget) {
    this.#terminal = new Bun.Terminal({
      cols: 80, rows: 24, name: "xterm",
      data: (_t, d) => {
        this.#seen = (this.#seen + Buffer.from(d).toString("latin1")).slice(-256);
        if (this.#waiter && this.#seen.includes(this.#waiter.want)) {
          const w = this.#waiter;
          this.#waiter = undefined;
          w.resolve();
        }
      },
    });
    const argv = ["ssh", "-F", t.configFile, "-tt", "-o", "BatchMode=yes", "-o", "ControlMaster=no", "-o", "ControlPath=none", ...t.clientOptions, "node", "stty raw -echo; echo READY-$((40+2)); exec cat"];
    this.proc = Bun.spawn(argv, { terminal: this.#terminal });
  }

  /** Types `text` and waits until `want` comes back (or has come, for ""); the round trip in ms. */
  async roundTrip(text: string, want: string, timeoutMs: number): Promise<number> {
    if (text === "" && this.#seen.includes(want)) return 0;
    if (text !== "") this.#seen = "";
    const echoed = new Promise<void>((resolve) => (this.#waiter = { want, resolve }));
    const start = performance.now();
    if (text !== "") this.#terminal.write(text);
    let timer: Timer | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no echo of ${JSON.stringify(want)} within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([echoed, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return performance.now() - start;
  }

  close(): void {
    this.proc.kill("SIGKILL");
    this.#terminal.close();
  }
}

export async function run(): Promise<object> {
  const dir = mkdtempSync(join(tmpdir(), "hostward-bench-lat-"));
  const source = process.env.HOSTWARD_BENCH_SOURCE === "head" ? "head" : "worktree";
  let cluster: SplitCluster | undefined;
  let sshd: Sshd | undefined;
  const sessions: PtySsh[] = [];
  try {
    await ensureSshd();
    const machine = await machineInfo(ROOT);
    const hw = await hostwardCommand(ROOT, source, dir);
    log(`hostward: ${hw.mode} from ${source} (${hw.note})`);
    // A plain account on both sides: root's shell startup on a shared machine runs
    // whatever its owner installed (bash reads ~/.bashrc even for ssh commands).
    await ensureTestAccount();
    await unlockForSshd(TEST_LOGIN);
    const login = TEST_LOGIN;
    mkdirSync(join(dir, "hw"));
    cluster = await startSplitCluster(join(dir, "hw"), hw, login, "bench", "");
    mkdirSync(join(dir, "sshd"), { mode: 0o700 });
    sshd = await startSshd(join(dir, "sshd"), login);
    const targets = [cluster.target, sshd.target];
    for (const t of targets) sessions.push(new PtySsh(t));
    // Live once the remote side has set its PTY raw and says so.
    for (const s of sessions) await s.roundTrip("", "READY-42", READY_TIMEOUT_MS);
    const samples = targets.map(() => [] as number[]);
    for (let k = 0; k < WARMUP + KEYS; k++) {
      const ch = ALPHABET[k % ALPHABET.length]!;
      const order = k % 2 === 0 ? [0, 1] : [1, 0];
      for (const i of order) {
        const ms = await sessions[i]!.roundTrip(ch, ch, ECHO_TIMEOUT_MS);
        if (k >= WARMUP) samples[i]!.push(ms);
      }
    }
    const h = summarize(samples[0]!);
    const s = summarize(samples[1]!);
    const report = {
      benchmark: "latency",
      date: machine.date,
      machine,
      hostward: { mode: hw.mode, source: hw.source, srcDirty: hw.srcDirty, note: hw.note },
      what: "one key typed into the local PTY of `ssh -tt node 'stty raw -echo; cat'` until cat's copy of it shows on that PTY (ssh puts the local PTY in raw mode, so nothing echoes locally); ms; hostward (auth service and agent as separate processes, session_recording = node, the default) and stock sshd alternate key by key, order swapped every key; warm-up keys dropped; nearest-rank percentiles",
      loadAverage1m: loadavg()[0],
      keysPerSide: h.n,
      hostwardMs: h,
      sshdMs: s,
      deltaP50Ms: h.p50 - s.p50,
      deltaP99Ms: h.p99 - s.p99,
      goal: { p50WithinMsOfSshd: GOAL_P50_DELTA_MS },
      pass: h.p50 - s.p50 <= GOAL_P50_DELTA_MS,
      samplesMs: { hostward: samples[0]!.map(r3), sshd: samples[1]!.map(r3) },
    };
    mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
    writeFileSync(RESULTS, JSON.stringify(report, null, 2) + "\n");
    const f = (n: number) => n.toFixed(2);
    console.log(formatTable(["keystroke → echo, ms", "hostward (recording on)", "sshd", "difference", "goal", "result"], [
      ["p50", f(h.p50), f(s.p50), f(h.p50 - s.p50), `<= ${GOAL_P50_DELTA_MS} ms`, report.pass ? "pass" : "MISS"],
      ["p99", f(h.p99), f(s.p99), f(h.p99 - s.p99), "", "(info)"],
    ]));
    console.log(`\nwrote ${relative(process.cwd(), RESULTS) || RESULTS}`);
    return report;
  } finally {
    for (const s of sessions) s.close();
    await cluster?.stop();
    await sshd?.service.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * sshd (UsePAM no) refuses even certificate logins to an account whose password field
 * is "!" (locked), which is how useradd leaves it; "*" means no password, not locked.
 */
async function unlockForSshd(login: string): Promise<void> {
  const shadow = await runCaptured(["getent", "shadow", login], 10_000);
  if (shadow.stdout.split(":")[1] !== "!") return;
  const r = await runCaptured(["usermod", "-p", "*", login], 10_000);
  if (r.code !== 0) throw new Error(`usermod -p '*' ${login}: ${r.stderr.trim()}`);
}

function r3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function log(s: string): void {
  console.error(`[latency] ${s}`);
}
