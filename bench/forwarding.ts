// Forwarding benchmark: `ssh -L` throughput through hostward's agent beside OpenSSH's
// sshd (its defaults, and limited to hostward's algorithms), measured in the same run.
// A byte source on the node's loopback sends 1 GiB to whoever connects through the
// tunnel; a reader on the client's side counts it. Writes bench/results/forwarding.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { Subprocess } from "bun";
import { hostwardCommand } from "./hostward-build.ts";
import { recordingOff, startHostward, type HostwardCluster } from "./hostward-cluster.ts";
import { freePort } from "./free-port.ts";
import { loginName } from "./login-name.ts";
import { machineInfo } from "./machine-info.ts";
import { OutputWatcher } from "./output-watcher.ts";
import { negotiated, type SshTarget } from "./ssh-client.ts";
import { ensureSshd, startSshd, type Sshd } from "./sshd.ts";
import { median } from "./stats.ts";
import { formatTable } from "./text-table.ts";
import { cpuSeconds, settledCpu } from "./proc-usage.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RESULTS = join(ROOT, "bench", "results", "forwarding.json");
const BYTES = 1024 * 1024 * 1024;
const ROUNDS = 3;
const TIMEOUT_MS = 180_000;
const BUDGET_MS = 240_000;
const READY_TIMEOUT_MS = 15_000;

// The source: on each connection, reads one line with a byte count and sends that many
// zero bytes (64 KiB writes, waiting for drain), then ends. A connection that sends no
// count (the tunnel's readiness probe) gets nothing.
const SOURCE = `
const net = require("node:net");
const block = Buffer.alloc(64 * 1024);
const server = net.createServer((s) => {
  let line = "";
  s.on("error", () => {});
  s.on("data", function onData(d) {
    line += d.toString("latin1");
    const nl = line.indexOf("\\n");
    if (nl < 0) return;
    s.off("data", onData);
    let left = Number(line.slice(0, nl));
    const more = () => {
      while (left > 0) {
        const n = Math.min(left, block.length);
        left -= n;
        if (!s.write(n === block.length ? block : block.subarray(0, n))) return void s.once("drain", more);
      }
      s.end();
    };
    more();
  });
});
server.listen(0, "127.0.0.1", () => console.log("source port " + server.address().port));
`;

// The reader: connects to the tunnel's local end, asks for N bytes, counts them; the
// clock runs from the first byte to EOF. Prints "bytes seconds".
const READER = `
const net = require("node:net");
const [port, want] = process.argv.slice(-2).map(Number);
let n = 0, t0 = 0n;
const s = net.connect(port, "127.0.0.1", () => s.write(want + "\\n"));
s.on("data", (d) => { if (n === 0) t0 = process.hrtime.bigint(); n += d.length; });
s.on("end", () => { console.log(n + " " + Number(process.hrtime.bigint() - t0) / 1e9); process.exit(0); });
s.on("error", (e) => { console.error(String(e)); process.exit(1); });
`;

interface Run {
  mibPerSec: number;
  seconds: number;
  serverCpuSeconds: number;
}

export async function run(): Promise<object> {
  const source = process.env.HOSTWARD_BENCH_SOURCE === "head" ? "head" : "worktree";
  await ensureSshd();
  const machine = await machineInfo(ROOT);
  const loadStart = loadavg();
  const dir = mkdtempSync(join(tmpdir(), "hostward-bench-fwd-"));
  let hw: HostwardCluster | undefined;
  let sshd: Sshd | undefined;
  let src: Subprocess<"ignore", "pipe", "pipe"> | undefined;
  try {
    const hostward = await hostwardCommand(ROOT, source, dir);
    log(`hostward: ${hostward.mode} from ${source} (${hostward.note})`);
    hw = await startHostward(join(dir, "hostward"), hostward, ROOT);
    await recordingOff(join(dir, "hostward"), hostward);
    mkdirSync(join(dir, "sshd"), { mode: 0o700 });
    sshd = await startSshd(join(dir, "sshd"), await loginName());
    src = Bun.spawn([process.execPath, "-e", SOURCE], { stdout: "pipe", stderr: "pipe" });
    const srcPort = Number((await new OutputWatcher([src.stdout]).waitFor(/source port (\d+)/, READY_TIMEOUT_MS))[1]);

    const hwAlg = await negotiated(hw.target, 10_000);
    const options = ["-o", `KexAlgorithms=${hwAlg.kex}`, "-o", `HostKeyAlgorithms=${hwAlg.hostKey}`, "-o", `Ciphers=${hwAlg.cipher}`];
    const matched: SshTarget = { ...sshd.target, name: "sshd-matched", clientOptions: options };
    const hwPid = hw.service.proc.pid;
    const sshdPid = sshd.service.proc.pid;
    const sides = [
      { target: hw.target, cpu: () => cpuSeconds(hwPid, false) },
      { target: sshd.target, cpu: () => cpuSeconds(sshdPid, true) },
      { target: matched, cpu: () => cpuSeconds(sshdPid, true) },
    ];
    const algorithms = { hostward: hwAlg, sshd: await negotiated(sshd.target, 10_000), sshdMatched: await negotiated(matched, 10_000) };
    const runs = sides.map(() => [] as Run[]);
    const deadline = performance.now() + BUDGET_MS;
    for (let round = 0; round < ROUNDS; round++) {
      if (round > 0 && performance.now() > deadline) {
        log(`time budget of ${BUDGET_MS / 1000} s used up after ${round} rounds`);
        break;
      }
      const order = round % 2 === 0 ? [...sides.keys()] : [...sides.keys()].reverse();
      for (const i of order) {
        const r = await forwardOnce(sides[i]!.target, sides[i]!.cpu, srcPort);
        log(`round ${round + 1} ${sides[i]!.target.name}: ${r.mibPerSec.toFixed(1)} MiB/s (${r.seconds.toFixed(2)} s), server CPU ${r.serverCpuSeconds.toFixed(2)} s`);
        runs[i]!.push(r);
      }
    }
    const [h, s, m] = runs.map(side) as [Side, Side, Side];
    const report = {
      benchmark: "forwarding",
      date: machine.date,
      machine,
      loadAverage: { start: loadStart.map(r2), end: loadavg().map(r2) },
      hostward: { mode: hostward.mode, source: hostward.source, srcDirty: hostward.srcDirty, note: hostward.note },
      algorithms,
      what: `\`ssh -N -L\` to a source on the node's loopback that sends ${BYTES} zero bytes per connection; a reader on the client side counts them; MiB/s from the first byte to EOF; one tunnel (one login) per run; sides interleaved, order reversed every other round; median per side. Server CPU: hostward's dev process, sshd's reaped per-connection processes, each including the tunnel's login`,
      bytes: BYTES,
      hostwardSide: h,
      sshd: s,
      sshdMatched: m,
      ratio: ratio(h.mibPerSec, s.mibPerSec),
      ratioMatched: ratio(h.mibPerSec, m.mibPerSec),
    };
    mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
    writeFileSync(RESULTS, JSON.stringify(report, null, 2) + "\n");
    const rows = [
      [`-L MiB/s, median of ${h.runsMiBPerSec.length}`, h.mibPerSec.toFixed(1), s.mibPerSec.toFixed(1), m.mibPerSec.toFixed(1), report.ratio.toFixed(2), report.ratioMatched.toFixed(2)],
      ["server CPU s per GiB (median)", h.serverCpuSecondsPerGiB.toFixed(2), s.serverCpuSecondsPerGiB.toFixed(2), m.serverCpuSecondsPerGiB.toFixed(2), ratio(h.serverCpuSecondsPerGiB, s.serverCpuSecondsPerGiB).toFixed(2), ratio(h.serverCpuSecondsPerGiB, m.serverCpuSecondsPerGiB).toFixed(2)],
    ];
    console.log(`load average ${report.loadAverage.start.join(" ")} -> ${report.loadAverage.end.join(" ")}\n`);
    console.log(formatTable(["", "hostward", "sshd", "sshd-matched", "hw/sshd", "hw/matched"], rows));
    console.log(`\nwrote ${relative(process.cwd(), RESULTS) || RESULTS}`);
    return report;
  } finally {
    src?.kill();
    await hw?.service.stop();
    await sshd?.service.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One tunnel: up, BYTES through it, down; the server's CPU over all of it. */
async function forwardOnce(t: SshTarget, cpu: () => number, srcPort: number): Promise<Run> {
  const lport = await freePort();
  const c0 = cpu();
  const ssh = Bun.spawn(
    ["ssh", "-F", t.configFile, "-N", "-T", "-o", "BatchMode=yes", "-o", "ControlMaster=no", "-o", "ControlPath=none", "-o", "UpdateHostKeys=no",
      "-o", "ExitOnForwardFailure=yes", ...t.clientOptions, "-L", `127.0.0.1:${lport}:127.0.0.1:${srcPort}`, "node"],
    { stdin: "ignore", stdout: "ignore", stderr: "pipe" },
  );
  try {
    await untilListening(lport, ssh);
    const reader = Bun.spawn([process.execPath, "-e", READER, String(lport), String(BYTES)], { stdout: "pipe", stderr: "pipe" });
    const timer = setTimeout(() => reader.kill(), TIMEOUT_MS);
    const [out, err] = await Promise.all([new Response(reader.stdout).text(), new Response(reader.stderr).text(), reader.exited]);
    clearTimeout(timer);
    const [got = "0", seconds = "0"] = out.trim().split(" ");
    if (Number(got) !== BYTES) throw new Error(`${t.name}: expected ${BYTES} bytes through -L, got ${got} ${err.trim()}`);
    ssh.kill();
    await ssh.exited;
    // sshd's per-connection process is counted once the listener has reaped it.
    const c1 = await settledCpu(cpu);
    const s = Number(seconds);
    return { seconds: s, mibPerSec: BYTES / 1048576 / s, serverCpuSeconds: c1 - c0 };
  } finally {
    ssh.kill();
  }
}

/** Waits until the tunnel's local end accepts connections (or ssh gives up). */
async function untilListening(port: number, ssh: Subprocess): Promise<void> {
  const end = performance.now() + READY_TIMEOUT_MS;
  while (performance.now() < end) {
    if (ssh.exitCode !== null) throw new Error(`ssh -L exited ${ssh.exitCode}: ${await new Response(ssh.stderr as ReadableStream).text()}`);
    const ok = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {}, open(s) { s.end(); } } }).then(() => true, () => false);
    if (ok) return;
    await Bun.sleep(50);
  }
  throw new Error(`ssh -L did not listen on ${port} within ${READY_TIMEOUT_MS} ms`);
}

interface Side {
  mibPerSec: number;
  runsMiBPerSec: number[];
  serverCpuSecondsPerGiB: number;
  runsServerCpuSecondsPerGiB: number[];
}

function side(runs: Run[]): Side {
  const rates = runs.map((r) => r.mibPerSec);
  const cpu = runs.map((r) => r.serverCpuSeconds / (BYTES / 2 ** 30));
  return { mibPerSec: r2(median(rates)), runsMiBPerSec: rates.map(r2), serverCpuSecondsPerGiB: r2(median(cpu)), runsServerCpuSecondsPerGiB: cpu.map(r2) };
}

function ratio(a: number, b: number): number {
  return Math.round((a / b) * 1000) / 1000;
}

function r2(x: number): number {
  return Math.round(x * 100) / 100;
}

function log(s: string): void {
  console.error(`[forwarding] ${s}`);
}
