// Starts, stops and restarts the test S3 server (helpers/s3rver-main.ts) on a fixed
// port and data directory, so stored objects survive a restart.
import { mkdirSync } from "node:fs";
import { BUN, ROOT, freePort, startProc, waitFor, type Proc } from "./process.ts";

export const S3_BUCKET = "recordings";
export const S3_ENV = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" };

export class S3Server {
  port = 0;
  #proc?: Proc;

  constructor(readonly dir: string) {}

  /** The recordings.storage URL for this server, with a key prefix. */
  url(prefix = "hostward"): string {
    return `s3://${S3_BUCKET}/${prefix}?endpoint=127.0.0.1:${this.port}&region=us-east-1&insecure=1`;
  }

  async start(): Promise<void> {
    this.port ||= await freePort();
    mkdirSync(this.dir, { recursive: true });
    this.#proc = startProc([BUN, `${ROOT}/test/helpers/s3rver-main.ts`, String(this.port), this.dir, S3_BUCKET]);
    await this.#proc.waitForOutput(/s3rver listening/, 15_000);
  }

  async stop(): Promise<void> {
    await this.#proc?.stop("SIGKILL");
    this.#proc = undefined;
    // The port is free once a connection is refused.
    await waitFor(async () => {
      try {
        await fetch(`http://127.0.0.1:${this.port}/`, { signal: AbortSignal.timeout(500) });
        return false;
      } catch {
        return true;
      }
    }, 10_000, "the S3 server to stop");
  }
}
