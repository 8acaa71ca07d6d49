// Lock check cost on a new connection: the agent's real ClusterView (SQLite cache in a
// temp dir) holding 100,000 locks over varied targets, and AccessGuard.check timed per
// call for a typical subject, a locked one, and a subject whose login shares a big bucket.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AccessGuard, type AccessSubject } from "../src/agent/access-guard.ts";
import { ClusterView } from "../src/agent/cluster-view.ts";
import { ViewDb } from "../src/agent/view-db.ts";
import { summarize, type Summary } from "./stats.ts";

export const LOCK_COUNT = 100_000;
const ITERATIONS = 100_000;
const WARMUP = 5_000;
/** Per case, warm-up (at most a quarter of it) included; a slow case stops early with fewer samples. */
const BUDGET_MS = 4_000;
const SERVER_ID = "9d1f1c9e-0000-4000-8000-000000000001";

export interface CheckCase {
  subject: string;
  refused: boolean;
  /** Microseconds per AccessGuard.check, each call timed on its own. */
  us: Summary;
}

export interface LockCheckResult {
  locks: number;
  mix: string;
  snapshotApplyMs: number;
  cacheLoadMs: number;
  cases: CheckCase[];
}

export async function measureLockCheck(): Promise<LockCheckResult> {
  const dir = mkdtempSync(join(tmpdir(), "hostward-bench-view-"));
  let cachedDb: ViewDb | undefined;
  try {
    const db = new ViewDb(join(dir, "agent.db"));
    const view = new ClusterView(db);
    const resources = [...baseResources(), ..._locks()];
    const t0 = performance.now();
    view.applySnapshot(1, "", resources, [], new Date());
    const snapshotApplyMs = performance.now() - t0;
    db.close();
    // Start again from the cache, as an agent restarting during an outage would.
    const t1 = performance.now();
    cachedDb = new ViewDb(join(dir, "agent.db"));
    const cached = new ClusterView(cachedDb);
    const cacheLoadMs = performance.now() - t1;
    if (cached.locks.size !== LOCK_COUNT) throw new Error(`view holds ${cached.locks.size} locks, expected ${LOCK_COUNT}`);
    const guard = new AccessGuard(cached, SERVER_ID);
    const subject = (user: string, login: string): AccessSubject => ({ user, roleNames: ["dev", "ops"], roles: cached.rolesOf(user), login, certAttributes: {} });
    const cases: [string, AccessSubject][] = [
      ["typical: user with 2 roles, login root, no lock matches", subject("alice", "root")],
      ["locked: the user has a lock", subject("user-40", "root")],
      ["big bucket: login shared by 10,000 login+role locks", subject("alice", "deploy")],
    ];
    return { locks: LOCK_COUNT, mix: MIX, snapshotApplyMs, cacheLoadMs, cases: cases.map(([name, s]) => timeChecks(guard, name, s)) };
  } finally {
    cachedDb?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function timeChecks(guard: AccessGuard, name: string, s: AccessSubject): CheckCase {
  const refused = guard.check(s) !== undefined;
  const start = performance.now();
  const inTime = (i: number, until: number) => i % 100 !== 0 || performance.now() < until;
  for (let i = 0; i < WARMUP && inTime(i, start + BUDGET_MS / 4); i++) guard.check(s);
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS && inTime(i, start + BUDGET_MS); i++) {
    const t = Bun.nanoseconds();
    guard.check(s);
    samples.push((Bun.nanoseconds() - t) / 1000);
  }
  return { subject: name, refused, us: summarize(samples) };
}

const MIX = "100,000 locks: 30% user, 10% user+login, 10% role (2,000 roles), 10% login+role on login \"deploy\", " +
  "10% server_id (other nodes), 5% server_id+user (over 100 nodes, this one among them), 15% device/mfa_device/access_request, " +
  "5% login, 5% windows_desktop";

function baseResources(): Record<string, unknown>[] {
  const role = (name: string): Record<string, unknown> => ({ kind: "role", name, allow: { logins: ["root", "deploy"] } });
  return [role("dev"), role("ops"), { kind: "user", name: "alice", roles: ["dev", "ops"] }, { kind: "user", name: "user-40", roles: ["dev", "ops"] }];
}

/** LOCK_COUNT locks in external form; none of them matches alice as root. */
function* _locks(): Generator<Record<string, unknown>> {
  for (let i = 0; i < LOCK_COUNT; i++) {
    const slot = i % 20;
    const target: Record<string, string> =
      slot < 6 ? { user: `user-${i}` }
      : slot < 8 ? { user: `user-${i}`, login: "root" }
      : slot < 10 ? { role: `role-${i % 2000}` }
      : slot < 12 ? { login: "deploy", role: `role-${i}` }
      : slot < 14 ? { server_id: `srv-${i}` }
      : slot === 14 ? { server_id: Math.floor(i / 20) % 100 === 0 ? SERVER_ID : `srv-${Math.floor(i / 20) % 100}`, user: `user-${i}` }
      : slot === 15 ? { device: `dev-${i}` }
      : slot === 16 ? { mfa_device: `mfa-${i}` }
      : slot === 17 ? { access_request: `req-${i}` }
      : slot === 18 ? { login: `login-${i}` }
      : { windows_desktop: `desk-${i}` };
    yield { kind: "lock", name: `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`, target, message: "Benchmark." };
  }
}
