// One confirmation before cutting someone off: a lock (message, TTL) or ending one session.
import { api } from "../api.ts";
import { h } from "../dom.ts";

/** Ends one session (the person may log in again); the message is shown on their terminal. */
export function terminateDialog(row: { id: string; user: string; login: string }, done: () => void): void {
  const message = h("input", { name: "message", placeholder: "Shown on their terminal", value: "" });
  confirmDialog("terminate", "Terminate", done, [
    h("p", {}, `Terminate ${row.user}'s session as ${row.login}? They can log in again; lock them to keep them out.`),
    h("label", {}, "Message ", message),
  ], () => api("POST", `/v1/sessions/${encodeURIComponent(row.id)}/terminate`, { message: message.value }));
}

export function lockDialog(target: Record<string, string>, what: string, done: () => void): void {
  const message = h("input", { name: "message", placeholder: "Shown on their terminal", value: "" });
  const ttl = h("input", { name: "ttl", placeholder: "e.g. 1h; empty = until removed", value: "1h" });
  confirmDialog("lock", "Lock", done, [h("p", {}, what), h("label", {}, "Message ", message), h("label", {}, "TTL ", ttl)], () => {
    const expires = ttl.value.trim() ? ttlToTime(ttl.value.trim()) : undefined;
    if (expires === null) throw new Error(`TTL: expected a duration like 30m, 1h or 2d, got "${ttl.value}"`);
    return api("PUT", "/v1/resources", { kind: "lock", target, ...(message.value ? { message: message.value } : {}), ...(expires ? { expires } : {}) });
  });
}

/**
 * A modal with `body`, Cancel and a danger button: the action's error (the API's own
 * message) is shown in the dialog; success closes it and calls done.
 */
function confirmDialog(id: string, label: string, done: () => void, body: Node[], action: () => Promise<unknown>): void {
  const error = h("p", { class: "error" });
  const dialog = h("dialog", { "data-testid": `${id}-dialog` },
    h("form", { method: "dialog", onsubmit: (e: Event) => { e.preventDefault(); void submit(); } },
      ...body, error,
      h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"), " ",
      h("button", { type: "submit", class: "danger", "data-testid": `${id}-confirm` }, label)));
  async function submit(): Promise<void> {
    try {
      await action();
      dialog.close();
      dialog.remove();
      done();
    } catch (e) {
      error.textContent = (e as Error).message;
    }
  }
  document.body.append(dialog);
  dialog.showModal();
}

/** "30m", "1h", "2d", "90s" to an RFC 3339 time from now; null when it is not one. */
export function ttlToTime(s: string): string | null | undefined {
  const m = /^(\d+)(s|m|h|d)$/.exec(s);
  if (!m) return null;
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "s" | "m" | "h" | "d"];
  return new Date(Date.now() + Number(m[1]) * unit * 1000).toISOString();
}
