// Sessions: the inventory with ctl's filters, paged by a keyset cursor, the first page
// refreshed every second (new logins appear, ended ones move on); lock a session's user.
import { api } from "../api.ts";
import { h, table, when } from "../dom.ts";
import { every, type Page } from "../page.ts";
import { lockDialog, terminateDialog } from "./lock-dialog.ts";

interface SessionRow {
  id: string; state: string; user: string; login: string; node: string; kind: string;
  start: string; end: string; duration: string; recorded: boolean; recording: string; reason: string;
}

const PAGE = 50;

export const sessionsPage: Page = async (ctx) => {
  const canLock = ctx.me.can["lock.create"] === true;
  const canTerminate = ctx.me.can["session.update"] === true;
  const f = filterForm(() => { cursors = []; void load(); });
  const out = h("div", {});
  const pager = h("div", { class: "pager" });
  ctx.main.append(f.form, out, pager);
  let cursors: string[] = [];
  let live = true;

  async function load(): Promise<void> {
    const q = new URLSearchParams({ limit: String(PAGE) });
    for (const [k, v] of Object.entries(f.values())) if (v) q.set(k, v);
    const cursor = cursors.at(-1);
    if (cursor) q.set("before", cursor);
    live = !cursor;
    let rows: SessionRow[];
    try {
      rows = await api<SessionRow[]>("GET", `/v1/sessions?${q}`);
    } catch (e) {
      out.replaceChildren(h("p", { class: "error" }, (e as Error).message));
      return;
    }
    out.replaceChildren(table(["state", "user", "login", "node", "kind", "start", "end", "duration", "recording", "reason", ""],
      rows.map((r) => [
        h("span", { class: `state-${r.state}` }, r.state), r.user, r.login, h("span", { class: "mono", title: r.node }, r.node.slice(0, 8)), r.kind,
        when(r.start), when(r.end), r.duration, r.recording, r.reason,
        r.state === "active" ? h("span", {},
          canTerminate ? h("button", { "data-testid": `terminate-${r.id}`, onclick: () => terminateDialog(r, load) }, "Terminate") : "", " ",
          canLock ? h("button", { class: "danger", "data-testid": `lock-${r.user}`, onclick: () => lockDialog({ user: r.user }, `Lock ${r.user}: every session of theirs is cut now and new ones refused.`, load) }, "Lock user") : "") : "",
      ]), "sessions"));
    out.firstElementChild?.querySelectorAll("tbody tr").forEach((tr, i) => tr.setAttribute("data-session", rows[i]!.id));
    pager.replaceChildren(
      h("button", { disabled: cursors.length === 0, onclick: () => { cursors.pop(); void load(); } }, "← Newer"),
      h("button", { disabled: rows.length < PAGE, onclick: () => { const last = rows.at(-1)!; cursors.push(`${last.start},${last.id}`); void load(); } }, "Older →"),
      h("span", { class: "note" }, live ? "live: refreshed every second" : "paused on an older page"));
  }

  every(ctx, 1000, async () => { if (live) await load(); });
};

function filterForm(onChange: () => void) {
  const input = (name: string, placeholder: string) => h("input", { name, placeholder, size: 14 });
  const state = h("select", { name: "state" }, ["", "active", "completed", "rejected", "lost"].map((s) => h("option", { value: s }, s || "any state")));
  const fields = { user: input("user", "user"), node: input("node", "node UUID"), login: input("login", "login"), since: input("since", "since (1h or time)"), until: input("until", "until (RFC 3339)") };
  const form = h("form", { class: "filters", onsubmit: (e: Event) => { e.preventDefault(); onChange(); } },
    Object.values(fields), state, h("button", { type: "submit" }, "Filter"));
  return { form, values: () => ({ ...Object.fromEntries(Object.entries(fields).map(([k, el]) => [k, el.value.trim()])), state: state.value }) };
}
