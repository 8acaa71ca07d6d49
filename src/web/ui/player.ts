// The recording player: a real terminal (@xterm/xterm) with play/pause, a timeline to
// drag or click, rewind, speed, skip idle, keyboard shortcuts and #t=M:SS links.
import "@xterm/xterm/css/xterm.css";
import { Terminal } from "@xterm/xterm";
import { clock, parseClock } from "./dom.ts";
import { KeyframeIndex, type PlayerEvent } from "./keyframes.ts";

interface Loaded {
  start: { user: string; login: string; server_id: string; time: string; cols?: number; rows?: number } | null;
  duration_ms: number;
  truncated: string | null;
  state: string | null;
  events: PlayerEvent[];
}

const IDLE_MS = 2000;
const SPEEDS = [0.5, 1, 2, 4, 8];
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const sid = new URLSearchParams(location.search).get("sid") ?? "";
const status = $("status");
const playBtn = $<HTMLButtonElement>("play");
const timeline = $<HTMLInputElement>("timeline");
const speedSel = $<HTMLSelectElement>("speed");
const skipIdle = $<HTMLInputElement>("skipidle");

async function main(): Promise<void> {
  const res = await fetch(`/api/v1/recordings/${encodeURIComponent(sid)}/events`, { credentials: "same-origin" });
  const data = await res.json();
  if (!res.ok) {
    status.textContent = data.error ?? `HTTP ${res.status}`;
    status.dataset.testid = "error";
    return;
  }
  new Player(data as Loaded).start();
}

class Player {
  readonly term: Terminal;
  readonly index: KeyframeIndex;
  pos = 0;
  /** Index of the next event to write. */
  next = 0;
  playing = false;
  speed = 1;
  lastSeekMs = 0;
  #last = 0;
  #timer?: number;
  #writing: Promise<void> = Promise.resolve();
  #seeking: Promise<void> = Promise.resolve();

  constructor(readonly rec: Loaded) {
    const cols = rec.start?.cols ?? 80;
    const rows = rec.start?.rows ?? 24;
    this.term = new Terminal({ cols, rows, disableStdin: true, convertEol: false, scrollback: 1000, fontSize: 14 });
    this.term.open($("screen"));
    this.index = new KeyframeIndex(rec.events, cols, rows);
    const s = rec.start;
    $("title").textContent = s ? `${s.user} as ${s.login} on ${s.server_id.slice(0, 8)}, ${s.time}` : sid;
    document.title = `${s?.user ?? "recording"} · hostward player`;
    timeline.max = String(rec.duration_ms);
    if (rec.truncated) status.textContent = rec.truncated;
  }

  async start(): Promise<void> {
    playBtn.onclick = () => void this.toggle();
    $("rewind").onclick = () => void this.seek(this.pos - 5000);
    $("forward").onclick = () => void this.seek(this.pos + 5000);
    timeline.oninput = () => void this.seek(Number(timeline.value));
    speedSel.onchange = () => (this.speed = Number(speedSel.value));
    $("link").onclick = () => {
      location.hash = `t=${clock(this.pos)}`;
      void navigator.clipboard?.writeText(location.href).catch(() => {});
    };
    document.addEventListener("keydown", (e) => this.key(e));
    window.addEventListener("hashchange", () => void this.seekToHash());
    (window as unknown as { hostwardPlayer: unknown }).hostwardPlayer = this;
    // The index is built ahead in the background, so a later seek is a lookup.
    void this.index.buildAll();
    if (!(await this.seekToHash())) await this.seek(0);
    document.body.dataset.ready = "1";
  }

  async seekToHash(): Promise<boolean> {
    const m = /(?:^#|&)t=([\d:]+)/.exec(location.hash);
    const at = m ? parseClock(m[1]!) : undefined;
    if (at === undefined) return false;
    await this.seek(at);
    return true;
  }

  key(e: KeyboardEvent): void {
    if ((e.target as HTMLElement).tagName === "INPUT" && (e.target as HTMLInputElement).type !== "range") return;
    const actions: Record<string, () => void> = {
      " ": () => void this.toggle(), k: () => void this.toggle(),
      ArrowLeft: () => void this.seek(this.pos - 5000), ArrowRight: () => void this.seek(this.pos + 5000),
      j: () => void this.seek(this.pos - 10_000), l: () => void this.seek(this.pos + 10_000),
      Home: () => void this.seek(0), "0": () => void this.seek(0), End: () => void this.seek(this.rec.duration_ms),
      "+": () => this.setSpeed(1), "=": () => this.setSpeed(1), "-": () => this.setSpeed(-1),
      i: () => (skipIdle.checked = !skipIdle.checked),
    };
    const fn = actions[e.key];
    if (!fn) return;
    e.preventDefault();
    fn();
  }

  setSpeed(step: number): void {
    const i = Math.max(0, Math.min(SPEEDS.length - 1, SPEEDS.indexOf(this.speed) + step));
    this.speed = SPEEDS[i]!;
    speedSel.value = String(this.speed);
  }

  async toggle(): Promise<void> {
    if (this.playing) return this.pause();
    if (this.pos >= this.rec.duration_ms) await this.seek(0); // restart at the end
    this.playing = true;
    this.#last = performance.now();
    this.#timer = window.setInterval(() => this.tick(), 30);
    this.render();
  }

  pause(): void {
    this.playing = false;
    clearInterval(this.#timer);
    this.render();
  }

  tick(): void {
    const now = performance.now();
    let pos = this.pos + (now - this.#last) * this.speed;
    this.#last = now;
    const upcoming = this.rec.events[this.next];
    if (skipIdle.checked && upcoming && upcoming[0] - this.pos > IDLE_MS && pos < upcoming[0]) pos = Math.max(pos, upcoming[0] - 200);
    this.advanceTo(Math.min(pos, this.rec.duration_ms));
    if (this.pos >= this.rec.duration_ms) this.pause();
    else this.render();
  }

  /** Writes the events up to `ms` and moves there. */
  advanceTo(ms: number): void {
    const ev = this.rec.events;
    while (this.next < ev.length && ev[this.next]![0] <= ms) this.apply(ev[this.next++]!);
    this.pos = ms;
  }

  apply(e: PlayerEvent): void {
    if (e[1] === "r") this.term.resize(Math.max(1, e[2]), Math.max(1, e[3]));
    else this.write(e[1] === "o" ? e[2] : base64Bytes(e[2]));
  }

  write(data: string | Uint8Array): void {
    this.#writing = new Promise((r) => this.term.write(data, r));
  }

  /** Rebuilds the screen at `ms` from the nearest keyframe and the events after it. */
  seek(ms: number): Promise<void> {
    // Seeks run one after another (dragging the timeline sends many); the last one wins.
    this.#seeking = this.#seeking.then(() => this.#seek(ms));
    return this.#seeking;
  }

  async #seek(ms: number): Promise<void> {
    const t0 = performance.now();
    const target = Math.max(0, Math.min(this.rec.duration_ms, Math.round(ms)));
    const frame = await this.index.frameAt(target);
    this.term.reset();
    this.term.resize(frame.cols, frame.rows);
    this.write(frame.screen);
    this.next = frame.next;
    this.advanceTo(target);
    await this.#writing;
    this.lastSeekMs = performance.now() - t0;
    this.render();
  }

  /** What the terminal shows now, line by line (for people copying text, and for tests). */
  screenText(): string {
    const b = this.term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < this.term.rows; i++) lines.push(b.getLine(b.viewportY + i)?.translateToString(true) ?? "");
    return lines.join("\n");
  }

  async settled(): Promise<void> {
    await this.#seeking;
    await this.#writing;
  }

  render(): void {
    const atEnd = this.pos >= this.rec.duration_ms;
    playBtn.textContent = this.playing ? "❚❚" : atEnd ? "↻" : "▶";
    playBtn.title = this.playing ? "Pause (space)" : atEnd ? "Restart (space)" : "Play (space)";
    timeline.value = String(Math.round(this.pos));
    $("clock").textContent = `${clock(this.pos)} / ${clock(this.rec.duration_ms)}`;
    document.body.dataset.state = this.playing ? "playing" : atEnd ? "ended" : "paused";
  }
}

function base64Bytes(b64: string): Uint8Array {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

void main().catch((e) => (status.textContent = (e as Error).message));
