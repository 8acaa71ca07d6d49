// The optional diagnostics listener: /healthz, /readyz and /metrics (Prometheus
// text). Plain HTTP, meant for loopback or a management network.
import type { HostPort } from "../core/host-port.ts";

export interface DiagHooks {
  ready(): { ok: boolean; reason?: string } | Promise<{ ok: boolean; reason?: string }>;
  metrics(): string | Promise<string>;
}

export function startDiagServer(addr: HostPort, hooks: DiagHooks) {
  return Bun.serve({
    hostname: addr.host,
    port: addr.port,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/healthz") return new Response("ok\n");
      if (path === "/readyz") {
        const r = await hooks.ready();
        // Ready with a reason is degraded: still serving, with something to look at.
        const text = r.ok ? (r.reason ? `ok (degraded: ${r.reason})` : "ok") : `not ready: ${r.reason ?? "unknown"}`;
        return new Response(text + "\n", { status: r.ok ? 200 : 503 });
      }
      if (path === "/metrics") return new Response(await hooks.metrics(), { headers: { "content-type": "text/plain; version=0.0.4" } });
      return new Response("not found\n", { status: 404 });
    },
  });
}
