// The console's shell: who is signed in, the navigation their rules allow, and a page
// per location hash (#/sessions, #/recordings, …); a page's timers stop when it is left.
import { loadMe, onSignedOut, signOut, type Me } from "./api.ts";
import { h } from "./dom.ts";
import type { Page, PageContext } from "./page.ts";
import { auditPage } from "./pages/audit.ts";
import { locksPage } from "./pages/locks.ts";
import { nodesPage } from "./pages/nodes.ts";
import { recordingsPage } from "./pages/recordings.ts";
import { sessionsPage } from "./pages/sessions.ts";
import { storagePage } from "./pages/storage.ts";

interface Entry { path: string; title: string; needs: string; page: Page }

const PAGES: Entry[] = [
  { path: "sessions", title: "Sessions", needs: "session.list", page: sessionsPage },
  { path: "recordings", title: "Recordings", needs: "recording.list", page: recordingsPage },
  { path: "locks", title: "Locks", needs: "lock.list", page: locksPage },
  { path: "nodes", title: "Nodes", needs: "node.list", page: nodesPage },
  { path: "audit", title: "Audit log", needs: "event.list", page: auditPage },
  { path: "storage", title: "Storage", needs: "recording.list", page: storagePage },
];

const main = document.getElementById("main")!;
let leave: (() => void)[] = [];
let signedOut = false;

onSignedOut((message) => {
  // The first answer says why (a lock, say); requests already in flight only see "not signed in".
  if (signedOut) return;
  signedOut = true;
  stopPage();
  document.getElementById("nav")!.replaceChildren();
  document.getElementById("who")!.replaceChildren();
  main.replaceChildren(h("h2", {}, "Signed out"), h("p", { "data-testid": "signed-out" }, message), h("p", { class: "note" }, "Run hostward web for a new sign-in link."));
});

function stopPage(): void {
  for (const fn of leave) fn();
  leave = [];
}

async function start(): Promise<void> {
  let me: Me;
  try {
    me = await loadMe();
  } catch {
    return; // the signed-out view is already shown
  }
  const allowed = PAGES.filter((p) => me.can[p.needs]);
  document.getElementById("who")!.replaceChildren(
    h("span", { "data-testid": "who" }, `${me.user} (${me.roles.join(", ") || "no roles"})`),
    h("button", { onclick: () => void signOut().then(() => location.reload()) }, "Sign out"));
  if (allowed.length === 0) {
    main.replaceChildren(h("h2", {}, "Nothing to show"), h("p", { "data-testid": "no-rules" },
      `You are signed in as ${me.user}, but none of your roles (${me.roles.join(", ") || "none"}) has rules for the console: ` +
      "it needs list on session, recording, lock, node or event. Ask an admin for a role such as auditor."));
    return;
  }
  const nav = document.getElementById("nav")!;
  const show = () => {
    if (signedOut) return;
    stopPage();
    const name = location.hash.replace(/^#\/?/, "").split("?")[0] || allowed[0]!.path;
    const entry = allowed.find((p) => p.path === name) ?? allowed[0]!;
    nav.replaceChildren(...allowed.map((p) => h("a", { href: `#/${p.path}`, class: p === entry ? "active" : "" }, p.title)));
    document.title = `${entry.title} · hostward`;
    const ctx: PageContext = { me, main, onLeave: (fn) => leave.push(fn) };
    main.replaceChildren(h("h2", {}, entry.title));
    entry.page(ctx).catch((e) => main.append(h("p", { class: "error" }, (e as Error).message)));
  };
  window.addEventListener("hashchange", show);
  show();
}

void start();
