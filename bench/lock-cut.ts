// Lock-to-cut latency: 200 live `ssh -tt` sessions over 2 real agents (TestCluster:
// auth service and agents as their own processes); for each lock, the time from the
// PUT /v1/resources answer (admin ApiClient in this process) until the last matching
// ssh client has exited.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { clientFor } from "../src/platform/identity-selection.ts";
import type { ApiClient } from "../src/platform/api-client.ts";
import { TestCluster, type Agent, type SshUser } from "../test/helpers/cluster.ts";
import { run } from "../test/helpers/process.ts";
import { forEachBounded } from "./bounded-pool.ts";
import { LiveSsh } from "./live-ssh.ts";
import { within } from "./timeout.ts";

const USERS = 25;
const SESSIONS_PER_USER_PER_AGENT = 4;
const OPEN_CONCURRENCY = 8;
const OPEN_TIMEOUT_MS = 20_000;
const OPEN_BUDGET_MS = 150_000;
const CUT_TIMEOUT_MS = 5_000;
const PAUSE_MS = 150;
/** After the logins, before the first lock: let the login burst's follow-up work finish. */
const SETTLE_MS = 3_000;
const MESSAGE = "Benchmark.";

export interface CutSample {
  target: string;
  sessions: number;
  /** From sending the PUT until its answer. */
  apiMs: number;
  /** From the API answer until the first / last matching ssh client exited. */
  firstCutMs: number;
  lastCutMs: number;
  /** From the API answer until the agents logged closing the last matching connection (log clock, 1 ms steps). */
  agentLastCloseMs: number;
  /** Mean time between two closes in one agent's sweep (its log clock): the agent's cost per cut connection. */
  agentMsPerClose: number;
  /** Cut sessions whose client printed the lock message. */
  messageSeen: number;
  /** Sessions that ended although the lock did not match them. */
  collateral: number;
}

export interface LockCutResult {
  sessions: number;
  agents: number;
  users: number;
  openSeconds: number;
  samples: CutSample[];
}

interface Session {
  user: number;
  ssh: LiveSsh;
}

export async function measureLockCut(log: (s: string) => void): Promise<LockCutResult> {
  const c = new TestCluster();
  const sessions: Session[] = [];
  try {
    await c.startAuth();
    const agents = [await c.addAgent(), await c.addAgent()];
    const admin = clientFor({ kind: "identity", path: c.identity });
    const users = await addUsers(c, admin);
    await c.writeKnownHosts();
    log(`cluster up: auth + ${agents.length} agents, ${USERS} users`);
    const t0 = performance.now();
    const plan = users.flatMap((u, ui) => agents.flatMap((a) => Array.from({ length: SESSIONS_PER_USER_PER_AGENT }, () => ({ ui, u, a }))));
    await forEachBounded(plan, OPEN_CONCURRENCY, t0 + OPEN_BUDGET_MS, async ({ ui, u, a }) => {
      const ssh = new LiveSsh(c.sshArgs(a, u, "root", ["-tt"]));
      sessions.push({ user: ui, ssh });
      await ssh.ready(OPEN_TIMEOUT_MS);
    });
    const openSeconds = (performance.now() - t0) / 1000;
    log(`${sessions.length} live ssh -tt sessions in ${openSeconds.toFixed(1)} s`);
    await Bun.sleep(SETTLE_MS);
    const samples: CutSample[] = [];
    const logs = new AgentLogs(agents);
    for (const [target, userIdx] of lockPlan()) {
      samples.push(await cutOnce(admin, sessions, logs, target, userIdx));
      await Bun.sleep(PAUSE_MS);
    }
    return { sessions: sessions.length, agents: agents.length, users: USERS, openSeconds, samples };
  } finally {
    for (const s of sessions) s.ssh.kill();
    await c.close();
  }
}

/** Users u00..u24 with role bench (root); u20-u21 also squad-a, u22-u24 also squad-b. One key, a certificate each. */
async function addUsers(c: TestCluster, admin: ApiClient): Promise<SshUser[]> {
  for (const role of ["bench", "squad-a", "squad-b"]) await admin.request("PUT", "/v1/resources", { kind: "role", name: role, allow: { logins: ["root"] } });
  const key = join(c.dir, "bench_key");
  const kg = await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f", key]);
  if (kg.code !== 0) throw new Error(`ssh-keygen: ${kg.stderr}`);
  const publicKey = (await Bun.file(`${key}.pub`).text()).trim();
  const users: SshUser[] = [];
  for (let i = 0; i < USERS; i++) {
    const name = `u${String(i).padStart(2, "0")}`;
    const roles = i < 20 ? ["bench"] : i < 22 ? ["bench", "squad-a"] : ["bench", "squad-b"];
    await admin.request("PUT", "/v1/resources", { kind: "user", name, roles });
    const signed = await admin.request<{ cert: string }>("POST", `/v1/users/${name}/certs`, { public_key: publicKey, ttl: "1h" });
    const cert = join(c.dir, `${name}-cert.pub`);
    writeFileSync(cert, signed.cert + "\n");
    users.push({ name, key, cert });
  }
  return users;
}

/** 20 user locks, then 2 role locks that each cut several users on both agents. */
function lockPlan(): [Record<string, string>, number[]][] {
  const plan: [Record<string, string>, number[]][] = [];
  for (let i = 0; i < 20; i++) plan.push([{ user: `u${String(i).padStart(2, "0")}` }, [i]]);
  plan.push([{ role: "squad-a" }, [20, 21]], [{ role: "squad-b" }, [22, 23, 24]]);
  return plan;
}

async function cutOnce(admin: ApiClient, sessions: Session[], logs: AgentLogs, target: Record<string, string>, userIdx: number[]): Promise<CutSample> {
  const hit = sessions.filter((s) => userIdx.includes(s.user));
  const others = sessions.filter((s) => !userIdx.includes(s.user) && s.ssh.alive);
  if (hit.some((s) => !s.ssh.alive)) throw new Error(`a session of ${JSON.stringify(target)} ended before its lock`);
  const sent = performance.now();
  await admin.request("PUT", "/v1/resources", { kind: "lock", target, message: MESSAGE });
  const answered = performance.now();
  const answeredEpoch = Date.now();
  if ((await within(Promise.all(hit.map((s) => s.ssh.exited)), CUT_TIMEOUT_MS)) === undefined) {
    throw new Error(`${hit.filter((s) => s.ssh.alive).length} of ${hit.length} sessions of ${JSON.stringify(target)} still open ${CUT_TIMEOUT_MS} ms after the lock`);
  }
  const exits = hit.map((s) => s.ssh.exitedAt! - answered);
  await Bun.sleep(50); // the agents' log lines reach this process's pipes a little later
  const perAgent = logs.closesSince().map((ts) => ts.map((t) => t - answeredEpoch));
  const closes = perAgent.flat();
  const spacing = perAgent.filter((ts) => ts.length > 1).map((ts) => (Math.max(...ts) - Math.min(...ts)) / (ts.length - 1));
  return {
    target: Object.entries(target).map(([k, v]) => `${k}:${v}`).join(","),
    sessions: hit.length,
    apiMs: answered - sent,
    firstCutMs: Math.min(...exits),
    lastCutMs: Math.max(...exits),
    agentLastCloseMs: closes.length === hit.length ? Math.max(...closes) : NaN,
    agentMsPerClose: spacing.length ? spacing.reduce((a, b) => a + b, 0) / spacing.length : NaN,
    messageSeen: hit.filter((s) => s.ssh.output.includes(`is in force: ${MESSAGE}`)).length,
    collateral: others.filter((s) => !s.ssh.alive).length,
  };
}


/** Per agent, its "closed connection" log lines that appeared since the last call, as epoch ms. */
class AgentLogs {
  readonly #seen: number[];

  constructor(private readonly agents: Agent[]) {
    this.#seen = agents.map((a) => a.proc.output().length);
  }

  closesSince(): number[][] {
    return this.agents.map((a, i) => {
      const times: number[] = [];
      const out = a.proc.output();
      const end = out.lastIndexOf("\n") + 1;
      for (const line of out.slice(this.#seen[i], end).split("\n")) {
        if (line.includes('"closed connection"')) times.push(Date.parse(JSON.parse(line).time));
      }
      this.#seen[i] = Math.max(this.#seen[i]!, end);
      return times;
    });
  }
}
