// JSON lines from a simulator process's stdout (bench/fanout-agents.ts), one at a time;
// a line {"event":"error",…} is thrown, a silent simulator times out.
import { within } from "./timeout.ts";

export type SimEvent = { event: string; [k: string]: unknown };

/** JSON lines from the simulator's stdout, one at a time. */
export class LineEvents {
  readonly #lines: string[] = [];
  #ended = false;
  #wake?: () => void;

  constructor(stream: ReadableStream<Uint8Array>) {
    void this.#drain(stream);
  }

  async next(timeoutMs: number): Promise<SimEvent> {
    const deadline = Date.now() + timeoutMs;
    while (this.#lines.length === 0) {
      if (this.#ended) throw new Error("simulator exited");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`simulator said nothing within ${timeoutMs} ms`);
      await within(new Promise<void>((resolve) => (this.#wake = resolve)), left);
    }
    const ev = JSON.parse(this.#lines.shift()!) as SimEvent;
    if (ev.event === "error") throw new Error(`simulator: ${String(ev.message)}`);
    return ev;
  }

  async #drain(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for await (const chunk of stream) {
        buf += decoder.decode(chunk, { stream: true });
        for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
          this.#lines.push(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
        this.#wake?.();
      }
    } catch {
      // A stream that errors has ended.
    }
    this.#ended = true;
    this.#wake?.();
  }
}
