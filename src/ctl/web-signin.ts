// `hostward web`: asks the auth service (as the person ctl would act as) for a one-time
// sign-in link to the web console, opens it in a browser when there is one, prints it always.
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { parse } from "./args.ts";
import { clientFor, selectIdentity } from "../platform/identity-selection.ts";

export async function runWeb(argv: string[], env: Record<string, string | undefined>): Promise<void> {
  const { values } = parse(argv, { identity: { type: "string" }, auth: { type: "string" }, "no-browser": { type: "boolean" } }, "web");
  const client = clientFor(selectIdentity(values.identity as string | undefined, env), values.auth as string | undefined);
  const link = await client.request<{ url: string; expires: string }>("POST", "/v1/web/signin", {});
  // Printed first and always: over SSH there is no browser here, and the link is in the scrollback.
  console.log(`Sign in to the web console (link valid for 60 s, usable once):\n\n  ${link.url}\n`);
  if (!values["no-browser"]) openBrowser(link.url, env);
}

function openBrowser(url: string, env: Record<string, string | undefined>): void {
  const opener = env.BROWSER ? env.BROWSER.split(":")[0]! : onPath("xdg-open", env) ? "xdg-open" : undefined;
  if (!opener) return;
  try {
    const argv = opener.includes("%s") ? opener.split(" ").map((a) => a.replace("%s", url)) : [...opener.split(" "), url];
    Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: "ignore" }).unref();
  } catch {
    // No browser after all: the printed link is enough.
  }
}

function onPath(cmd: string, env: Record<string, string | undefined>): boolean {
  return (env.PATH ?? "").split(delimiter).some((d) => d && existsSync(join(d, cmd)));
}
