// One simulator process (bench/fanout-agents.ts) under its parent's control: started with
// the hard file limit, commands written as JSON lines, its events read back one at a time.
import type { FileSink, Subprocess } from "bun";
import { LineEvents, type SimEvent } from "./line-events.ts";

export class SimProcess {
  readonly proc: Subprocess;
  readonly events: LineEvents;

  /** servers: each agent's `auth_servers`; flags: --spread, --follow. */
  constructor(servers: string[], caFile: string, token: string, count: number, flags: string[]) {
    const script = new URL("./fanout-agents.ts", import.meta.url).pathname;
    this.proc = Bun.spawn(["sh", "-c", 'ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"', process.execPath, script, servers.join(","), caFile, token, String(count), ...flags],
      { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    this.events = new LineEvents(this.proc.stdout as ReadableStream<Uint8Array>);
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** Waits for the next event, which must be `name`. */
  async expect(name: string, timeoutMs: number): Promise<SimEvent> {
    const ev = await this.events.next(timeoutMs);
    if (ev.event !== name) throw new Error(`simulator: expected ${name}, got ${JSON.stringify(ev).slice(0, 300)}`);
    return ev;
  }

  /** Sends a command and waits for its answer. */
  async ask(cmd: object, answer: string, timeoutMs: number): Promise<SimEvent> {
    this.send(cmd);
    return this.expect(answer, timeoutMs);
  }

  send(cmd: object): void {
    const stdin = this.proc.stdin as FileSink;
    stdin.write(JSON.stringify(cmd) + "\n");
    stdin.flush();
  }

  /** Asks it to quit, then kills it if it has not within a few seconds. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    try {
      this.send({ cmd: "quit" });
    } catch {
      // stdin already closed: the kill below ends it.
    }
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), 5_000);
    await this.proc.exited;
    clearTimeout(timer);
  }
}
