// Per-match cost of LockIndex with 100,000 locks (not a test: timings vary by machine).
// Run: bun bench/lock-index.ts

import { LockIndex } from "../src/core/lock-index.ts";
import type { AccessAttributes } from "../src/core/lock-match.ts";
import type { LockTarget } from "../src/core/resource-types.ts";

const now = new Date();
const index = new LockIndex();
for (let i = 0; i < 100_000; i++) {
  const kind = i % 4;
  const target: LockTarget =
    kind === 0 ? { user: `user-${i}` } : kind === 1 ? { role: `role-${i % 500}`, login: `login-${i}` }
    : kind === 2 ? { serverId: `srv-${i}`, user: "alice" } : { login: "root", user: `user-${i}` };
  index.put({ kind: "lock", name: `l${i}`, target });
}

const attrs: AccessAttributes[] = Array.from({ length: 1000 }, (_, i) => ({
  user: `user-${i * 7}`, roles: [`role-${i % 500}`, "dev"], login: "root", serverId: `srv-${i * 3}`,
}));
const rounds = 100_000;
let hits = 0;
const start = performance.now();
for (let i = 0; i < rounds; i++) if (index.match(attrs[i % attrs.length]!, now)) hits++;
const perMatch = ((performance.now() - start) / rounds) * 1000;
console.log(`locks=${index.size} matches=${rounds} hits=${hits} per_match_us=${perMatch.toFixed(2)}`);
