// Session recording end to end (node mode, file storage): real ssh sessions recorded
// by the agent, uploaded to the auth service and read back with `hostward play`.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestCluster, type Agent, type SshUser } from "../helpers/cluster.ts";
import { openLiveSession } from "../helpers/live-session.ts";
import { readRecording } from "../../src/recording/format/recording-reader.ts";
import { waitFor } from "../helpers/process.ts";
import { outputOf, play, playEvents, recordingsOf, waitForRecordings, type RecordingRow } from "../helpers/recordings.ts";

const NOTICE = "hostward: this session is being recorded";

let c: TestCluster;
let agent: Agent;
let alice: SshUser;
let bob: SshUser;
let carol: SshUser;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
  agent = await c.addAgent();
  await c.createRole("rec", `[allow]\nlogins = ["root"]`);
  await c.createRole("norec", `[options]\nrecord_session = { ssh = false }\n[allow]\nlogins = ["root"]`);
  alice = await c.addUser("alice", ["rec"]);
  bob = await c.addUser("bob", ["norec"]);
  carol = await c.addUser("carol", ["norec", "rec"]);
  await c.writeKnownHosts();
}, 60_000);

afterAll(() => c.close());

describe("interactive session", () => {
  let sid = "";
  let seen = "";

  test("typed through ssh -tt, its output comes back byte for byte from play --format json", async () => {
    const s = await openLiveSession(c.sshArgs(agent, alice, "root", ["-tt"]));
    s.send("printf 'MARK-%s\\n' $((6*7)); printf '\\033[1;31mred\\033[0m caf\\xc3\\xa9 \\xff\\n'");
    await s.proc.waitForOutput(/MARK-42/);
    s.send("stty cols 100 rows 30; exit");
    expect(await s.ended(15_000)).toBe(0);
    seen = s.proc.output();
    expect(seen.startsWith(NOTICE + "\r\n")).toBe(true);
    const [rec] = await waitForRecordings(c, "alice", 1);
    expect(rec!.state).toBe("complete");
    expect(rec!.kind).toBe("shell");
    sid = rec!.session_id;
    const events = await playEvents(c, sid);
    expect(events[0]!.event).toBe("session.start");
    expect(events.at(-1)!.event).toBe("session.end");
    const recorded = outputOf(events);
    // What ssh printed is the notice, then exactly the recorded output.
    expect(new TextDecoder().decode(recorded)).toBe(seen.slice(NOTICE.length + 2).replace(/Connection to 127\.0\.0\.1 closed\.\r?\n$/, ""));
    expect(recorded.includes(Buffer.from([0xff]))).toBe(true);
    const ms = events.map((e) => e.ms);
    expect([...ms].sort((a, b) => a - b)).toEqual(ms);
  });

  test("--format text gives the same output without escape sequences", async () => {
    const r = await play(c, sid, "--format", "text");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("MARK-42\n");
    expect(r.stdout).toContain("red café");
    expect(r.stdout).not.toContain("\x1b");
    expect(r.stdout).not.toContain("\r");
  });

  test("--format asciicast is asciinema v2", async () => {
    const r = await play(c, sid, "--format", "asciicast");
    expect(r.code).toBe(0);
    const [head, ...lines] = r.stdout.trim().split("\n");
    const h = JSON.parse(head!);
    expect(h.version).toBe(2);
    expect(h.width).toBeGreaterThan(0);
    expect(h.height).toBeGreaterThan(0);
    expect(Number.isInteger(h.timestamp)).toBe(true);
    expect(typeof h.command).toBe("string");
    let last = 0;
    const kinds = new Set<string>();
    for (const l of lines) {
      const [t, kind, data] = JSON.parse(l);
      expect(typeof t).toBe("number");
      expect(t).toBeGreaterThanOrEqual(last);
      expect(typeof data).toBe("string");
      kinds.add(kind);
      last = t;
    }
    expect(kinds.has("o")).toBe(true);
    expect([...kinds].every((k) => k === "o" || k === "r")).toBe(true);
    expect(lines.map((l) => JSON.parse(l)[2]).join("")).toContain("MARK-42");
  });

  test("a downloaded file plays the same, and a truncated one says where it ends", async () => {
    const file = join(c.dir, "rec.ndjson.gz");
    await c.ctlOk("recordings", "download", sid, "--out", file);
    expect(outputOf(await playEvents(c, file))).toEqual(outputOf(await playEvents(c, sid)));
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const r = await play(c, file, "--format", "json");
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/recording ends early at \d+:\d\d after \d+ events/);
  });
});

describe("bulk binary output", () => {
  test("random and zero bytes through exec are recorded byte for byte as version-2 frames, random ones stored, not base64", async () => {
    const sent = join(c.dir, "bulk-sent");
    const r = await c.ssh(agent, alice, "root", [`head -c 3000000 /dev/urandom > ${sent}; cat ${sent}; head -c 2000000 /dev/zero`], { timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    let row: RecordingRow | undefined;
    await waitFor(async () => (row = (await recordingsOf(c, "alice")).find((x) => x.kind === "exec" && x.state === "complete" && x.bytes > 3_000_000)) !== undefined, 30_000, "the bulk recording", 200);
    const file = join(c.dir, "bulk.gz");
    await c.ctlOk("recordings", "download", row!.session_id, "--out", file);
    const loaded = readRecording(readFileSync(file));
    expect(loaded.truncated).toBeUndefined();
    expect(loaded.start).toMatchObject({ version: 2 });
    expect(outputOf(loaded.events)).toEqual(Buffer.concat([readFileSync(sent), Buffer.alloc(2_000_000)]));
    expect(loaded.events.some((e) => e.event === "print" && e.raw !== undefined && e.b64 === undefined)).toBe(true);
    // 3 MB of random bytes: stored as they are (base64 would make it 4 MB), the zeros squeezed to nothing.
    expect(readFileSync(file).length).toBeLessThan(3_100_000);
    expect(readFileSync(file).length).toBeGreaterThan(3_000_000);
  }, 90_000);
});

describe("who is recorded", () => {
  test("a role with record_session.ssh = false alone: not recorded, no notice", async () => {
    const r = await c.ssh(agent, bob, "root", ["echo hi"]);
    expect(r.stdout).toBe("hi\n");
    expect(r.stderr).not.toContain(NOTICE);
    const ev = JSON.parse(await c.ctlOk("events", "ls", "--type", "session.start", "--user", "bob", "--format", "json"));
    expect(ev[0].recorded).toBe(false);
    expect(await recordingsOf(c, "bob")).toEqual([]);
  });

  test("plus a recording role: recorded (one recording role wins)", async () => {
    const r = await c.ssh(agent, carol, "root", ["echo hi"]);
    expect(r.stderr).not.toContain(NOTICE); // an exec session is recorded without a notice by default
    const ev = JSON.parse(await c.ctlOk("events", "ls", "--type", "session.start", "--user", "carol", "--format", "json"));
    expect(ev[0].recorded).toBe(true);
    const [rec] = await waitForRecordings(c, "carol", 1);
    expect(rec!.state).toBe("complete");
  });
});
