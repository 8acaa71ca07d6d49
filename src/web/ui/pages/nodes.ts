// Fleet health: every node, its heartbeat, version drift against the auth service,
// and what its agent reports (lock view, outbox, sessions, spool); unregister one.
import { api } from "../api.ts";
import { ago, bytes, h, table } from "../dom.ts";
import { every, type Page } from "../page.ts";
import { lockDialog } from "./lock-dialog.ts";

interface Health { commit?: string; lock_view_age_ms?: number; locking_mode?: string; outbox_depth?: number; sessions?: number; spool_bytes?: number }
interface NodeRow { server_id: string; hostname: string; addr: string; labels: Record<string, string>; version: string; state: string; last_seen: string; health?: Health }

export const nodesPage: Page = async (ctx) => {
  const canLock = ctx.me.can["lock.create"] === true;
  const out = h("div", {});
  ctx.main.append(h("p", { class: "note" }, `auth service ${ctx.me.version} (commit ${ctx.me.commit})`), out);
  every(ctx, 5000, async () => {
    const rows = await api<NodeRow[]>("GET", "/v1/nodes");
    out.replaceChildren(table(["hostname", "labels", "state", "last heartbeat", "version", "lock view", "outbox", "sessions", "spool", ""], rows.map((n) => {
      const hl = n.health ?? {};
      const drift = n.version !== ctx.me.version || (hl.commit !== undefined && hl.commit !== ctx.me.commit);
      return [
        h("span", { title: n.server_id }, n.hostname), h("span", { class: "mono" }, Object.entries(n.labels).map(([k, v]) => `${k}=${v}`).join(" ")),
        h("span", { class: `state-${n.state}` }, n.state === "locked" ? "locked (unregistered)" : n.state), ago(n.last_seen),
        h("span", { class: drift ? "warn" : "" }, `${n.version}${hl.commit ? ` (${hl.commit})` : ""}${drift ? " ≠ auth" : ""}`),
        hl.lock_view_age_ms === undefined ? "" : `${(hl.lock_view_age_ms / 1000).toFixed(1)}s, ${hl.locking_mode ?? ""}`,
        hl.outbox_depth ?? "", hl.sessions ?? "", hl.spool_bytes === undefined ? "" : bytes(hl.spool_bytes),
        canLock && n.state !== "locked" ? h("button", { class: "danger", onclick: () => lockDialog({ server_id: n.server_id }, `Unregister ${n.hostname}: every session on it is cut, and it is refused until the lock is removed.`, () => {}) }, "Unregister this node") : "",
      ];
    }), "nodes"));
  });
};
