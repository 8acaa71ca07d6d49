// Locks in force, and creating one with any targets (the API validates and explains).
import { api } from "../api.ts";
import { h, table, when } from "../dom.ts";
import type { Page } from "../page.ts";
import { ttlToTime } from "./lock-dialog.ts";

interface LockRow { name: string; target: Record<string, string>; message?: string; expires?: string; created_by?: string; created_at?: string }

const TARGETS = ["user", "role", "login", "server_id", "device", "mfa_device", "access_request", "windows_desktop"];

export const locksPage: Page = async (ctx) => {
  const canCreate = ctx.me.can["lock.create"] === true;
  const canDelete = ctx.me.can["lock.delete"] === true;
  const out = h("div", {});
  const load = async () => {
    const rows = await api<LockRow[]>("GET", "/v1/resources/lock");
    out.replaceChildren(rows.length === 0 ? h("p", { class: "note" }, "No locks in force.") : table(["targets", "message", "expires", "created by", "created", ""], rows.map((l) => [
      h("span", { class: "mono" }, Object.entries(l.target).map(([k, v]) => `${k}=${v}`).join(" ")), l.message ?? "", l.expires ? when(l.expires) : "never",
      l.created_by ?? "", when(l.created_at),
      canDelete ? h("button", { "data-testid": `unlock-${l.name}`, onclick: async () => { if (confirm(`Remove lock ${l.name}?`)) { await api("DELETE", `/v1/resources/lock/${encodeURIComponent(l.name)}`); await load(); } } }, "Remove") : "",
    ]), "locks"));
  };
  if (canCreate) ctx.main.append(createForm(load));
  ctx.main.append(out);
  await load();
};

function createForm(done: () => Promise<void>): HTMLElement {
  const fields = Object.fromEntries(TARGETS.map((t) => [t, h("input", { name: t, size: 12 })]));
  const message = h("input", { name: "message" });
  const ttl = h("input", { name: "ttl", placeholder: "1h; empty = until removed" });
  const error = h("p", { class: "error", "data-testid": "lock-error" });
  const submit = async () => {
    error.textContent = "";
    const target = Object.fromEntries(Object.entries(fields).map(([k, el]) => [k, el.value.trim()]).filter(([, v]) => v));
    const expires = ttl.value.trim() ? ttlToTime(ttl.value.trim()) : undefined;
    if (expires === null) return void (error.textContent = `ttl: expected a duration like 30m, 1h or 2d`);
    try {
      // Sent as given: the API applies the same checks and messages as for ctl.
      await api("PUT", "/v1/resources", { kind: "lock", target, ...(message.value ? { message: message.value } : {}), ...(expires ? { expires } : {}) });
      for (const el of [...Object.values(fields), message, ttl]) el.value = "";
      await done();
    } catch (e) {
      error.textContent = (e as Error).message;
    }
  };
  return h("form", { class: "stack", "data-testid": "lock-form", onsubmit: (e: Event) => { e.preventDefault(); void submit(); } },
    TARGETS.map((t) => h("label", {}, t, fields[t]!)), h("label", {}, "message", message), h("label", {}, "ttl", ttl),
    h("button", { type: "submit", class: "danger" }, "Create lock"), error);
}
