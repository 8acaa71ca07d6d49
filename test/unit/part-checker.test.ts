// The auth service's part checks on a worker thread: same answers as checkPart, the
// caller's bytes untouched, and a closed checker refusing rather than hanging.
import { describe, expect, test } from "bun:test";
import { checkPart, gzipMember } from "../../src/recording/format/part-codec.ts";
import { PartChecker } from "../../src/auth/recording/part-checker.ts";

describe("PartChecker", () => {
  test("answers as checkPart does, for good and bad parts, and leaves the bytes to the caller", async () => {
    const c = new PartChecker();
    try {
      const good = gzipMember('{"event":"print","ms":3,"data":"hi"}\n{"event":"session.end","ms":9,"time":"x","interrupted":true,"reason":"cut"}\n');
      const bad = gzipMember('{"event":"print","ms":1,"data":"x"}\nnot json\n');
      const copy = Uint8Array.from(good);
      const [g, b, cut] = await Promise.all([c.check(good), c.check(bad), c.check(good.subarray(0, 20))]);
      expect(g).toEqual(checkPart(good));
      expect(g).toMatchObject({ ok: true, events: 2, lastMs: 9, last: { event: "session.end", interrupted: true } });
      expect(b).toEqual({ ok: false, reason: "line 2: not valid JSON" });
      expect(cut).toMatchObject({ ok: false, reason: expect.stringMatching(/not valid gzip/) });
      expect(good).toEqual(copy);
    } finally {
      c.close();
    }
  });

  test("a closed checker refuses new checks", async () => {
    const c = new PartChecker();
    c.close();
    await expect(c.check(gzipMember("x\n"))).rejects.toThrow(/closed/);
  });
});
