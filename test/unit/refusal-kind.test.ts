// How a refusal's reason maps to its kind (metrics and the session inventory count by it).
// The inventory itself is in the store contract: test/store/store-suite.ts.
import { describe, expect, test } from "bun:test";
import { refusalKind, type RefusalKind } from "../../src/core/refusal-kind.ts";

describe("refusal kinds", () => {
  const cases: [string, RefusalKind][] = [
    ['lock targeting User:"a" is in force', "lock"],
    ["preventive lock-out: lock view is stale (last synced never)", "stale_view"],
    ['too many concurrent ssh connections for user "a" (max=1)', "max_connections"],
    ['too many session channels for user "a" (max=1)', "max_sessions"],
    ['max_connections for user "a" cannot be checked: the auth service is unreachable', "session_control"],
    ["certificate expired at …", "certificate"],
    ['login "x" is not allowed by any role', "policy"],
    ["something else", "other"],
  ];
  for (const [reason, kind] of cases) test(reason, () => expect(refusalKind(reason)).toBe(kind));
});
