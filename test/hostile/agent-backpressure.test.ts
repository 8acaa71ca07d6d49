// Backpressure on every output path of the compiled agent: `yes` in a PTY session and
// in an exec session, each to a client that stops reading (SIGSTOP) and to one that reads
// 1 KiB/s, all at once for 30 s. The agent's RSS may grow by at most 16 MiB, and each
// recording holds every byte its client received.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, statSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { outputOf, playEvents, waitForRecordings } from "../helpers/recordings.ts";
import { run, waitFor } from "../helpers/process.ts";

// Real processes on a shared 2-core machine.
setDefaultTimeout(120_000);

const STALL_MS = 30_000;
const MAX_GROWTH = 16 * 1024 * 1024;
const SETTLE_MS = 2_000;

let c: TestCluster;
let a: Agent;
let yes: SshUser;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  a = await c.addAgent();
  await c.createRole("shell", `[allow]\nlogins = ["root"]`);
  yes = await c.addUser("yesman", ["shell"]);
  await c.writeKnownHosts();
}, 60_000);

// Clients and readers of a failed run would otherwise outlive it (every one names c.dir).
afterAll(async () => {
  await run(["pkill", "-KILL", "-f", `${c.dir}/`]);
  await c.close();
});

function rss(pid: number): number {
  const kb = Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/)![1]);
  return kb * 1024;
}

interface Client {
  name: string;
  proc: ReturnType<typeof Bun.spawn>;
  out: string;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * `ssh node yes` into a pipe: a reader that takes 1 KiB a second (slow), or one that reads
 * nothing until the file `go` exists, then everything (stalled: the issue's "a pipe nobody reads").
 */
function client(name: string, pty: boolean, slow: boolean, go: string): Client {
  const out = join(c.dir, `${name}-${Date.now()}.out`);
  const ssh = c.sshArgs(a, yes, "root", pty ? ["-tt"] : []).map(quote).join(" ");
  const reader = slow
    ? `while dd bs=1024 count=1 iflag=fullblock status=none >> ${out}; do sleep 1; done`
    : `while [ ! -e ${go} ]; do sleep 0.2; done; exec cat >> ${out}`;
  const proc = Bun.spawn(["sh", "-c", `${ssh} yes | sh -c ${quote(reader)}`], { stdin: "pipe", stdout: "ignore", stderr: "ignore" });
  return { name, proc, out };
}

/** `yes` processes anywhere below the agent (they run under setsid/setpriv wrappers). */
async function yesCount(agentPid: number): Promise<number> {
  const ps = (await run(["ps", "-eo", "pid=,ppid=,comm="])).stdout.trim().split("\n").map((l) => l.trim().split(/\s+/));
  const below = new Set([agentPid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [p, pp] of ps) if (below.has(Number(pp)) && !below.has(Number(p))) (below.add(Number(p)), (grew = true));
  }
  return ps.filter(([p, , comm]) => below.has(Number(p)) && comm === "yes").length;
}

function clients(go: string): Client[] {
  return [client("pty-stalled", true, false, go), client("exec-stalled", false, false, go), client("pty-slow", true, true, go), client("exec-slow", false, true, go)];
}

/** Lets the stalled readers go (they end at EOF), then kills every client. */
async function killAll(xs: Client[], go: string): Promise<void> {
  writeFileSync(go, "");
  for (const x of xs) x.proc.kill("SIGKILL");
  await Promise.all(xs.map((x) => x.proc.exited));
  await run(["pkill", "-KILL", "-f", `${c.dir}/yesman_key`]); // the ssh processes of the pipelines
}

test("a stalled and a 1 KiB/s client, PTY and exec, 30 s: RSS bounded, recordings hold what clients got", async () => {
  // Warm-up: the same four sessions for a few seconds, so that what logins, JIT and the
  // first bursts cost once is in the baseline; what is measured is growth while stalled.
  const pid = a.proc.proc.pid;
  const warmGo = join(c.dir, "warm-go");
  const warm = clients(warmGo);
  await Bun.sleep(5_000);
  await killAll(warm, warmGo);
  await waitForRecordings(c, "yesman", 4, 60_000);
  const idle = rss(pid);
  const go = join(c.dir, "go");
  const measured = clients(go);
  // Logins (key exchange, certificate checks) and the bursts that fill each client's
  // window cost what they cost once: the baseline is taken when all four run and are held.
  await waitFor(async () => (await yesCount(pid)) === 4, 30_000, "four yes sessions", 200);
  await waitFor(() => measured.filter((x) => x.name.endsWith("slow")).every((x) => existsSync(x.out)), 30_000, "the slow clients reading", 200);
  await Bun.sleep(SETTLE_MS);
  const before = rss(pid);
  const until = Date.now() + STALL_MS;
  let peak = before;
  const samples: number[] = [];
  while (Date.now() < until) {
    samples.push(rss(pid));
    peak = Math.max(peak, samples.at(-1)!);
    await Bun.sleep(500);
  }
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  console.log(`agent RSS ${mib(idle)} MiB idle, ${mib(before)} MiB with the four sessions held, peak ${mib(peak)} MiB (+${mib(peak - before)}) over ${STALL_MS / 1000} s, ${mib(samples.at(-1)!)} MiB at the end`);
  expect(peak - before).toBeLessThanOrEqual(MAX_GROWTH);
  for (const x of measured.filter((x) => x.name.endsWith("slow"))) expect(readFileSync(x.out).length).toBeGreaterThan(0);
  // The stalled clients read what is waiting (until each has some); then every client goes.
  writeFileSync(go, "");
  await waitFor(() => measured.every((x) => existsSync(x.out) && statSync(x.out).size > 0), 30_000, "every client reading", 100);
  await killAll(measured, go);
  const recs = (await waitForRecordings(c, "yesman", 8, 60_000)).slice(0, 4);
  const outputs = await Promise.all(recs.map(async (r) => outputOf(await playEvents(c, r.session_id))));
  for (const x of measured) {
    // What the client got, less the recording notice the agent wrote to it (not recorded).
    const got = readFileSync(x.out).toString("latin1").replace(/^(hostward: [^\n]*\n)+/, "");
    expect(got.length).toBeGreaterThan(0);
    const holding = outputs.filter((o) => o.length >= got.length && o.toString("latin1", 0, got.length) === got);
    expect(holding.length, `${x.name}: ${got.length} bytes received; no recording starts with them`).toBeGreaterThan(0);
  }
});
