// A live interactive `ssh -tt` session held open for a lock to cut, with the moment
// the client process exited taken on this process's clock (performance.now()).
import type { Subprocess } from "bun";

const KEEP_CHARS = 4096;

export class LiveSsh {
  readonly proc: Subprocess<"pipe", "pipe", "pipe">;
  /** performance.now() when ssh exited; undefined while it runs. */
  exitedAt?: number;
  readonly exited: Promise<number>;
  #text = "";

  constructor(argv: string[]) {
    this.proc = Bun.spawn(argv, { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    this.exited = this.proc.exited.then(() => (this.exitedAt = performance.now()));
    void this.#drain(this.proc.stdout);
    void this.#drain(this.proc.stderr);
  }

  get alive(): boolean {
    return this.exitedAt === undefined;
  }

  /** The newest output of both streams. */
  get output(): string {
    return this.#text;
  }

  /** Runs a shell line and waits until its answer shows, so the session is known to be live. */
  async ready(timeoutMs: number): Promise<void> {
    this.proc.stdin.write("echo READY-$((40+2))\n");
    this.proc.stdin.flush();
    const deadline = performance.now() + timeoutMs;
    while (!this.#text.includes("READY-42")) {
      if (!this.alive) throw new Error(`ssh exited before the shell answered: ${this.#text.slice(-300)}`);
      if (performance.now() > deadline) throw new Error(`shell did not answer within ${timeoutMs} ms`);
      await Bun.sleep(10);
    }
  }

  kill(): void {
    if (this.alive) this.proc.kill("SIGKILL");
  }

  async #drain(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) {
        this.#text += decoder.decode(chunk, { stream: true });
        if (this.#text.length > KEEP_CHARS) this.#text = this.#text.slice(-KEEP_CHARS);
      }
    } catch {
      // A stream that errors has ended.
    }
  }
}
