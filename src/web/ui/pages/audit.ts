// The audit log: ctl events ls with type/user/since filters, newest first, paged, each
// event's full JSON one click away.
import { api } from "../api.ts";
import { h, table, when } from "../dom.ts";
import type { Page } from "../page.ts";

interface AuditEvent { seq: number; event: string; code: string; time: string; user?: string; [k: string]: unknown }

const PAGE = 50;

export const auditPage: Page = async (ctx) => {
  const type = h("input", { name: "type", placeholder: "type (session.start)", size: 18 });
  const user = h("input", { name: "user", placeholder: "user", size: 12 });
  const since = h("input", { name: "since", placeholder: "since (1h or time)", size: 14 });
  const out = h("div", {});
  const pager = h("div", { class: "pager" });
  let befores: number[] = [];
  const load = async () => {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (type.value.trim()) q.set("type", type.value.trim());
    if (user.value.trim()) q.set("user", user.value.trim());
    if (since.value.trim()) q.set("since", since.value.trim());
    const before = befores.at(-1);
    if (before) q.set("before", String(before));
    const rows = await api<AuditEvent[]>("GET", `/v1/events?${q}`);
    out.replaceChildren(table(["time", "event", "code", "user", "details"], rows.map((e) => [
      when(e.time), e.event, e.code, e.user ?? "",
      h("details", {}, h("summary", {}, summary(e)), h("pre", { class: "json" }, JSON.stringify(e, null, 2))),
    ]), "events"));
    pager.replaceChildren(
      h("button", { disabled: befores.length === 0, onclick: () => { befores.pop(); void load(); } }, "← Newer"),
      h("button", { disabled: rows.length < PAGE, onclick: () => { befores.push(rows.at(-1)!.seq); void load(); } }, "Older →"));
  };
  ctx.main.append(h("form", { class: "filters", onsubmit: (e: Event) => { e.preventDefault(); befores = []; void load().catch(showError); } }, type, user, since, h("button", { type: "submit" }, "Filter")), out, pager);
  const showError = (e: Error) => out.replaceChildren(h("p", { class: "error" }, e.message));
  await load().catch(showError);
};

function summary(e: AuditEvent): string {
  const skip = new Set(["seq", "uid", "event", "code", "time", "user"]);
  return Object.entries(e).filter(([k]) => !skip.has(k)).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ").slice(0, 160);
}
