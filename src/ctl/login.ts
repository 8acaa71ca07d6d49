// `hostward login --auth HOST:PORT --ca-pin PIN [-i KEY]`: checks the auth service
// against the pin, checks that it accepts this key's certificate, and saves the
// profile so that `hostward ctl` acts as this person.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { isCaPin } from "../core/ca-pin.ts";
import { fetchPinnedCa } from "../platform/api-client.ts";

/** Several replicas ("a:3025,b:3025"): the first that answers with the pinned CA. */
async function firstPinnedCa(servers: string[], pin: string): Promise<string> {
  let failure: unknown;
  for (const s of servers) {
    try {
      return await fetchPinnedCa(s, pin);
    } catch (e) {
      failure = e;
    }
  }
  throw failure;
}
import { profilePath, writeProfile } from "../platform/profile-file.ts";
import { parse } from "./args.ts";
import { CliError, usage } from "../platform/cli-error.ts";
import { clientFor, ensureDir } from "../platform/identity-selection.ts";

export async function runLogin(args: string[], env: Record<string, string | undefined>): Promise<void> {
  const { values } = parse(args, { auth: { type: "string" }, "ca-pin": { type: "string" }, identity: { type: "string", short: "i" } }, "login");
  const auth = values.auth;
  const pin = values["ca-pin"]?.toLowerCase();
  if (!auth || !pin) throw usage("usage: hostward login --auth HOST:PORT --ca-pin sha256:… [-i KEY]");
  if (!isCaPin(pin)) throw usage(`login: --ca-pin must look like sha256:<64 hex digits>, got ${JSON.stringify(pin.slice(0, 80))}`);
  const keyPath = values.identity ?? join(env.HOME ?? homedir(), ".ssh", "id_ed25519");
  const certPath = `${keyPath}-cert.pub`;
  for (const f of [keyPath, certPath]) if (!existsSync(f)) throw new CliError(`${f}: no such file${f === certPath ? " (ask an admin: hostward ctl users sign NAME --pubkey KEY.pub)" : ""}`);
  const caCertPem = await firstPinnedCa(auth.split(",").map((s) => s.trim()).filter(Boolean), pin);
  const path = profilePath(env);
  const profile = { authServer: auth, caPin: pin, caCertPem, keyPath, certPath };
  ensureDir(path);
  writeProfile(path, profile);
  const me = await clientFor({ kind: "profile", path }).request<{ you: { user?: string; roles?: string[] } }>("GET", "/v1/status");
  console.log(`Logged in to ${auth} as ${me.you.user} (roles: ${(me.you.roles ?? []).join(", ") || "none"}). Profile: ${path}`);
}
