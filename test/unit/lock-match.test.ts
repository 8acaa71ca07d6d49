import { describe, expect, test } from "bun:test";
import { lockIsActive, lockMatches, lockMessage, type AccessAttributes } from "../../src/core/lock-match.ts";
import type { Lock, LockTarget } from "../../src/core/resource-types.ts";

const now = new Date("2026-01-01T00:00:00Z");
const lock = (target: LockTarget, extra: Partial<Lock> = {}): Lock => ({ kind: "lock", name: "l", target, ...extra });

const alice: AccessAttributes = {
  user: "alice", roles: ["dev", "ops"], login: "root", serverId: "srv-1",
  mfaDevice: "mfa-1", device: "dev-1", accessRequests: ["req-1", "req-2"], windowsDesktop: "win-1",
};

describe("lockMatches", () => {
  const cases: [string, LockTarget, AccessAttributes, boolean, Partial<Lock>?][] = [
    ["user", { user: "alice" }, alice, true],
    ["other user", { user: "bob" }, alice, false],
    ["any of the roles", { role: "ops" }, alice, true],
    ["role not held", { role: "admin" }, alice, false],
    ["role with no roles given", { role: "ops" }, { user: "alice" }, false],
    ["login", { login: "root" }, alice, true],
    ["server id", { serverId: "srv-1" }, alice, true],
    ["other server", { serverId: "srv-2" }, alice, false],
    ["mfa device", { mfaDevice: "mfa-1" }, alice, true],
    ["device", { device: "dev-1" }, alice, true],
    ["any access request", { accessRequest: "req-2" }, alice, true],
    ["access request not used", { accessRequest: "req-3" }, alice, false],
    ["windows desktop", { windowsDesktop: "win-1" }, alice, true],
    ["every field matches", { user: "alice", login: "root", serverId: "srv-1" }, alice, true],
    ["one field of several differs", { user: "alice", login: "ubuntu" }, alice, false],
    ["field the attempt lacks", { user: "alice", mfaDevice: "mfa-1" }, { user: "alice" }, false],
    ["empty target never matches", {}, alice, false],
    ["empty target against empty attempt", {}, {}, false],
    ["unexpired", { user: "alice" }, alice, true, { expires: new Date("2026-01-01T00:00:01Z") }],
    ["expired", { user: "alice" }, alice, false, { expires: new Date("2025-12-31T23:59:59Z") }],
    ["expiring exactly now", { user: "alice" }, alice, false, { expires: now }],
    ["case matters", { user: "Alice" }, alice, false],
  ];
  for (const [name, target, attrs, want, extra] of cases) test(name, () => {
    expect(lockMatches(lock(target, extra), attrs, now)).toBe(want);
  });
});

test.each([
  [undefined, true],
  [new Date("2026-01-01T00:00:00.001Z"), true],
  [now, false],
  [new Date("2020-01-01T00:00:00Z"), false],
] as [Date | undefined, boolean][])("lockIsActive(expires=%p) = %p", (expires, want) => {
  expect(lockIsActive(lock({ user: "a" }, expires ? { expires } : {}), now)).toBe(want);
});

describe("lockMessage", () => {
  const cases: [LockTarget, string | undefined, string][] = [
    [{ user: "alice" }, "Suspicious activity.", 'lock targeting User:"alice" is in force: Suspicious activity.'],
    [{ user: "alice" }, undefined, 'lock targeting User:"alice" is in force'],
    [{ user: "alice" }, "", 'lock targeting User:"alice" is in force'],
    [{ serverId: "s1", login: "root", user: "bob", role: "dev" }, "Maintenance",
      'lock targeting User:"bob", Role:"dev", Login:"root", ServerID:"s1" is in force: Maintenance'],
    [{ windowsDesktop: "w", accessRequest: "r", device: "d", mfaDevice: "m" }, undefined,
      'lock targeting MFADevice:"m", Device:"d", AccessRequest:"r", WindowsDesktop:"w" is in force'],
    [{ user: 'ev"il' }, undefined, 'lock targeting User:"ev\\"il" is in force'],
  ];
  for (const [target, message, want] of cases) test(want, () => {
    expect(lockMessage(lock(target, message === undefined ? {} : { message }))).toBe(want);
  });
});
