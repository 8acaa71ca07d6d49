// Joining: a bad pin, a reused token and an expired one are refused on both sides;
// `hostward dev` prints an ssh line that logs straight in; a refused join spends nothing.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { formatAuthorizedKey, generateEd25519 } from "../../src/core/ssh-key.ts";
import { ApiClient, ApiError } from "../../src/platform/api-client.ts";
import { readIdentity } from "../../src/platform/identity-file.ts";
import { TestCluster } from "../helpers/cluster.ts";
import { CLI, freePort, run, startProc } from "../helpers/process.ts";

let c: TestCluster;

beforeAll(async () => {
  c = new TestCluster();
  await c.startAuth();
}, 30_000);

afterAll(() => c.close());

async function agentConfig(name: string, token: string, pin: string): Promise<string> {
  const path = join(c.dir, `${name}.toml`);
  writeFileSync(path, `data_dir = "${c.dir}/${name}"\nauth_server = "${c.authAddr}"\njoin_token = "${token}"\nca_pin = "${pin}"\n[ssh]\nlisten = "127.0.0.1:${await freePort()}"\n`);
  return path;
}

test("a mismatched CA pin is refused before anything is sent", async () => {
  const { token } = await c.token();
  const cfg = await agentConfig("badpin", token, "sha256:" + "0".repeat(64));
  const r = await run([...CLI, "agent", "start", "--config", cfg]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("does not match CA pin");
  expect(existsSync(join(c.dir, "badpin", "identity"))).toBe(false);
  // The token was never presented, so it still works.
  const good = await agentConfig("goodpin", token, (await c.token()).ca_pin);
  const p = startProc([...CLI, "agent", "start", "--config", good]);
  await p.waitForOutput(/"agent started"/);
  await p.stop();
});

test("a used, unknown or expired token is refused on both sides", async () => {
  const { token, ca_pin } = await c.token();
  const first = startProc([...CLI, "agent", "start", "--config", await agentConfig("first", token, ca_pin)]);
  await first.waitForOutput(/"agent started"/);
  await first.stop();
  const again = await run([...CLI, "agent", "start", "--config", await agentConfig("second", token, ca_pin)]);
  expect(again.code).toBe(1);
  expect(again.stderr).toContain("join token is already used");
  const unknown = await run([...CLI, "agent", "start", "--config", await agentConfig("third", "f".repeat(48), ca_pin)]);
  expect(unknown.stderr).toContain("join token is not valid");
  const short = JSON.parse(await c.ctlOk("tokens", "add", "--ttl", "1ms", "--format", "json"));
  const expired = await run([...CLI, "agent", "start", "--config", await agentConfig("fourth", short.token, ca_pin)]);
  expect(expired.stderr).toContain("join token is expired");
});

test("hostward dev prints an ssh line that logs straight in, and a second run reuses the cluster", async () => {
  const cwd = mkdtempSync(join(tmpdir(), "hostward-dev-"));
  try {
    const [diag, agentDiag] = [await freePort(), await freePort()];
    const args = [...CLI, "dev", "--auth-port", String(await freePort()), "--ssh-port", String(await freePort()),
      "--diag-port", String(diag), "--agent-diag-port", String(agentDiag)];
    for (const round of [1, 2]) {
      const dev = startProc(args, { cwd });
      const line = (await dev.waitForOutput(/ssh -F \S+ node/, 30_000)).trim();
      expect(dev.output()).toContain(`Metrics: http://127.0.0.1:${diag}/metrics (auth), http://127.0.0.1:${agentDiag}/metrics (agent)`);
      for (const port of [diag, agentDiag]) {
        expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toContain("# TYPE hostward_");
      }
      expect(line).toBe("ssh -F .hostward/ssh_config node");
      const r = await run([...line.split(" "), "-o", "BatchMode=yes", "echo", `round${round}`, "&&", "id", "-un"], { cwd });
      expect(r.stderr).not.toContain("Host key verification failed");
      expect(r.stdout).toBe(`round${round}\nroot\n`);
      const status = await run([...CLI, "ctl", "status"], { cwd });
      expect(status.stdout).toContain("You:          admin");
      expect(await dev.stop("SIGINT")).toBe(0);
    }
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}, 90_000);

test("a refused join (the server UUID is registered with another key) leaves its token unused and writes no event", async () => {
  const caCertPem = readIdentity(c.identity).caCertPem;
  const api = new ApiClient(c.authAddr, caCertPem);
  const serverId = randomUUID();
  const body = (token: string, id: string) => ({
    token, server_id: id, hostname: "twin", addr: "127.0.0.1:3022", labels: {},
    identity_key: formatAuthorizedKey("ssh-ed25519", generateEd25519().publicBlob, id),
    host_key: formatAuthorizedKey("ssh-ed25519", generateEd25519().publicBlob, id), version: "test",
  });
  await api.request("POST", "/v1/join", body((await c.token()).token, serverId));
  const { token } = await c.token();
  const twin = await api.request("POST", "/v1/join", body(token, serverId)).catch((e: ApiError) => e);
  expect(twin).toBeInstanceOf(ApiError);
  expect((twin as ApiError).status).toBe(409);
  expect((twin as ApiError).message).toContain("already registered with another key");
  // The token was not spent on the refusal: it joins another node.
  const other = randomUUID();
  await api.request("POST", "/v1/join", body(token, other));
  const joins = JSON.parse(await c.ctlOk("events", "ls", "--type", "node.join", "--format", "json")) as { server_id: string }[];
  expect(joins.filter((e) => e.server_id === serverId)).toHaveLength(1);
  expect(joins.filter((e) => e.server_id === other)).toHaveLength(1);
});
