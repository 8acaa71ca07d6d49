// What every console page gets: the signed-in person, where to draw, and a way to stop
// its timers when the person goes to another page.
import type { Me } from "./api.ts";

export interface PageContext {
  me: Me;
  main: HTMLElement;
  onLeave(fn: () => void): void;
}

export type Page = (ctx: PageContext) => Promise<void>;

/** Runs fn now and every `ms` until the page is left; an overlapping run is skipped. */
export function every(ctx: PageContext, ms: number, fn: () => Promise<void>): void {
  let busy = false;
  let stopped = false;
  const tick = async () => {
    if (busy || stopped) return;
    busy = true;
    try { await fn(); } catch { /* the page shows its own errors */ } finally { busy = false; }
  };
  const timer = setInterval(() => void tick(), ms);
  ctx.onLeave(() => { stopped = true; clearInterval(timer); });
  void tick();
}
