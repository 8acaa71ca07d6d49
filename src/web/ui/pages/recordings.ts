// Recordings: the list with its state; Play opens the player in a new tab.
import { api } from "../api.ts";
import { bytes, clock, h, table, when } from "../dom.ts";
import type { Page } from "../page.ts";

interface RecordingRow { session_id: string; server_id: string; user: string; login: string; kind: string; started: string; duration_ms: number; state: string; bytes: number }

export const recordingsPage: Page = async (ctx) => {
  const user = h("input", { name: "user", placeholder: "user", size: 14 });
  const node = h("input", { name: "node", placeholder: "node UUID", size: 14 });
  const state = h("select", { name: "state" }, [["", "any state"], ["complete", "complete or interrupted"], ["corrupt", "corrupt"], ["open", "uploading"]].map(([v, t]) => h("option", { value: v }, t)));
  const out = h("div", {});
  const load = async () => {
    const q = new URLSearchParams({ limit: "200" });
    if (user.value.trim()) q.set("user", user.value.trim());
    if (node.value.trim()) q.set("node", node.value.trim());
    if (state.value) q.set("state", state.value);
    const rows = await api<RecordingRow[]>("GET", `/v1/recordings?${q}`);
    out.replaceChildren(table(["user", "login", "node", "start", "duration", "size", "state", ""], rows.map((r) => [
      r.user, r.login, h("span", { class: "mono", title: r.server_id }, r.server_id.slice(0, 8)), when(r.started), clock(r.duration_ms), bytes(r.bytes),
      h("span", { class: r.state === "corrupt" ? "bad" : r.state === "interrupted" ? "warn" : "" }, r.state),
      r.state === "uploading" ? "" : h("a", { href: `/player?sid=${encodeURIComponent(r.session_id)}`, target: "_blank", rel: "noopener", "data-testid": `play-${r.session_id}` }, "Play"),
    ]), "recordings"));
  };
  ctx.main.append(h("form", { class: "filters", onsubmit: (e: Event) => { e.preventDefault(); void load(); } }, user, node, state, h("button", { type: "submit" }, "Filter")), out);
  await load();
};
