// Storage: recordings' size from the auth store's bookkeeping (no bucket scan): total,
// per day and per node over 30 days, growth rate and a 90-day projection.
import { api } from "../api.ts";
import { bytes, h, table } from "../dom.ts";
import type { Page } from "../page.ts";

interface Usage {
  total_bytes: number; total_recordings: number;
  days: { day: string; bytes: number; recordings: number }[];
  nodes: { server_id: string; bytes: number; recordings: number }[];
  growth_bytes_per_day: number; projected_bytes_90d: number;
}

export const storagePage: Page = async (ctx) => {
  const u = await api<Usage>("GET", "/v1/recordings/usage?days=30");
  // Every day of the window gets a bar; days without recordings are zero.
  const byDay = new Map(u.days.map((d) => [d.day, d]));
  const days = Array.from({ length: 30 }, (_, i) => new Date(Date.now() - (29 - i) * 86_400_000).toISOString().slice(0, 10))
    .map((day) => byDay.get(day) ?? { day, bytes: 0, recordings: 0 });
  const max = Math.max(1, ...days.map((d) => d.bytes));
  ctx.main.append(
    h("div", { class: "cards", "data-testid": "storage" },
      card("total", bytes(u.total_bytes), `${u.total_recordings} recordings`),
      card("growth", `${bytes(u.growth_bytes_per_day)}/day`, "mean of the last 30 days"),
      card("in 90 days", bytes(u.projected_bytes_90d), "at that rate")),
    h("h3", {}, "Per day, last 30 days"),
    h("div", { class: "bars" }, days.map((d) => h("div", { title: `${d.day}: ${bytes(d.bytes)} in ${d.recordings} recordings`, style: `height:${(100 * d.bytes) / max}%` }))),
    h("h3", {}, "Per node, last 30 days"),
    table(["node", "size", "recordings"], u.nodes.map((n) => [h("span", { class: "mono" }, n.server_id), bytes(n.bytes), String(n.recordings)])));
};

function card(title: string, value: string, note: string): HTMLElement {
  return h("div", { class: "card" }, h("span", { class: "note" }, title), h("b", {}, value), h("span", { class: "note" }, note));
}
