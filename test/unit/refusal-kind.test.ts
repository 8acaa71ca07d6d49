// A refusal's kind is data decided where the refusal is made; what arrives from outside
// (an agent's event) is kept when it is a kind we know, else it is "other".
import { expect, test } from "bun:test";
import { asRefusalKind, REFUSAL_KINDS } from "../../src/core/refusal-kind.ts";

test("every known kind is kept as it is", () => {
  for (const k of REFUSAL_KINDS) expect(asRefusalKind(k)).toBe(k);
});

test("an unknown or missing kind is other, whatever the message says", () => {
  for (const v of ["made-up", "", undefined, null, 3, { kind: "lock" }]) expect(asRefusalKind(v)).toBe("other");
});
