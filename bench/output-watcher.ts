// Drains a long-running process's output streams (so it never blocks on a full pipe),
// keeps the recent part, and lets the caller wait for a line to appear.

const KEEP_CHARS = 256 * 1024;

export class OutputWatcher {
  #text = "";
  #open: number;
  #listeners = new Set<() => void>();

  constructor(streams: ReadableStream<Uint8Array>[]) {
    this.#open = streams.length;
    for (const s of streams) void this.#drain(s);
  }

  /** Everything kept so far (the newest KEEP_CHARS characters). */
  get text(): string {
    return this.#text;
  }

  /** Resolves with the first match of pattern; rejects on timeout or when all streams end first. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const finish = (err?: Error, m?: RegExpMatchArray) => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        if (err) reject(err);
        else resolve(m!);
      };
      const check = () => {
        const m = this.#text.match(pattern);
        if (m) finish(undefined, m);
        else if (this.#open === 0) finish(new Error(`output ended before ${pattern} appeared`));
      };
      const timer = setTimeout(() => finish(new Error(`${pattern} did not appear within ${timeoutMs} ms`)), timeoutMs);
      this.#listeners.add(check);
      check();
    });
  }

  async #drain(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) this.#append(decoder.decode(chunk, { stream: true }));
    } catch {
      // A stream that errors counts as ended.
    }
    this.#open--;
    this.#notify();
  }

  #append(s: string): void {
    this.#text += s;
    if (this.#text.length > KEEP_CHARS) this.#text = this.#text.slice(-KEEP_CHARS);
    this.#notify();
  }

  #notify(): void {
    for (const l of [...this.#listeners]) l();
  }
}
