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

  test("lending moves a whole buffer to the worker and back: same bytes, same answers, no copy", async () => {
    const c = new PartChecker();
    try {
      const good = gzipMember('{"event":"print","ms":3,"data":"hi"}\n');
      const bad = gzipMember("not json\n");
      const [goodCopy, badCopy] = [Uint8Array.from(good), Uint8Array.from(bad)];
      const lentBuffer = good.buffer;
      const g = await c.lend(good);
      expect(good.byteLength).toBe(0); // moved, not copied
      expect(g.bytes).toEqual(goodCopy);
      expect(g.check).toEqual(checkPart(goodCopy));
      expect(lentBuffer.byteLength).toBe(0);
      const b = await c.lend(bad);
      expect(b.bytes).toEqual(badCopy);
      expect(b.check).toEqual({ ok: false, reason: "line 1: not valid JSON" });
      // A view into a larger buffer is copied: the rest of that buffer stays the caller's.
      const big = new Uint8Array(goodCopy.length + 4);
      big.set(goodCopy, 2);
      const v = await c.lend(big.subarray(2, 2 + goodCopy.length));
      expect(v.bytes).toEqual(goodCopy);
      expect(big.byteLength).toBe(goodCopy.length + 4);
    } finally {
      c.close();
    }
  });

  test("a closed checker refuses new checks", async () => {
    const c = new PartChecker();
    c.close();
    await expect(c.check(gzipMember("x\n"))).rejects.toThrow(/closed/);
    await expect(c.lend(gzipMember("x\n"))).rejects.toThrow(/closed/);
  });
});
