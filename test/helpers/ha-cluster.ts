// A test cluster of several auth replicas on one private PostgreSQL database, with the
// recordings in a directory every replica shares or in S3 (s3rver); agents and ctl from TestCluster.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestCluster } from "./cluster.ts";
import { createTestDatabase, type TestDatabase } from "./postgres.ts";
import { S3_ENV, type S3Server } from "./s3-server.ts";
import { CLI, freePort, httpOk, run, startProc, waitFor, type Proc, type RunResult } from "./process.ts";

export interface Replica {
  name: string;
  dir: string;
  port: number;
  diagPort: number;
  addr: string;
  identity: string;
  proc: Proc;
  start(): Promise<void>;
  ctl(...args: string[]): Promise<RunResult>;
}

export class HaCluster extends TestCluster {
  readonly replicas: Replica[] = [];

  /** Added to every replica's environment (the S3 credentials when recordings go to S3). */
  readonly replicaEnv: Record<string, string> = {};

  private constructor(readonly db: TestDatabase, readonly storeExtra: string) {
    super(storeExtra);
  }

  /** `opts.s3`: recordings go to that (started) S3 server instead of a shared directory. */
  static async create(extra = "", opts: { s3?: S3Server } = {}): Promise<HaCluster> {
    const db = await createTestDatabase();
    const c = new HaCluster(db, "");
    let recordings: string;
    if (opts.s3) {
      recordings = `storage = "${opts.s3.url()}"`;
      Object.assign(c.replicaEnv, S3_ENV);
    } else {
      const shared = join(c.dir, "shared-recordings");
      mkdirSync(shared, { recursive: true });
      recordings = `storage = "file://${shared}"\nshared = true`;
    }
    (c as { storeExtra: string }).storeExtra = `${extra}\n[store]\nurl = "${db.url}"\npool = 4\n[recordings]\n${recordings}\n`;
    return c;
  }

  /** ctl, play and new agents' join tokens go through `r` from now on (the first replica died). */
  useReplica(r: Replica): void {
    this.authPort = r.port;
    this.authDiagPort = r.diagPort;
    (this as { identity: string }).identity = r.identity;
    this.auth = r.proc;
  }

  /** Starts replica `name` (its own data dir and ports, the shared database). `configure` may replace its extra config. */
  async addReplica(name: string, configure?: (extra: string) => string): Promise<Replica> {
    const dir = join(this.dir, `auth-${name}`);
    const [port, diagPort] = [await freePort(), await freePort()];
    const cfg = join(this.dir, `auth-${name}.toml`);
    const extra = configure ? configure(this.storeExtra) : this.storeExtra;
    writeFileSync(cfg, `data_dir = "${dir}"\nlisten = "127.0.0.1:${port}"\ndiag_addr = "127.0.0.1:${diagPort}"\nlog_level = "debug"\n${extra}`);
    const identity = join(dir, "admin.identity");
    const r: Replica = {
      name, dir, port, diagPort, addr: `127.0.0.1:${port}`, identity,
      proc: undefined as unknown as Proc,
      start: async () => {
        r.proc = startProc([...CLI, "auth", "start", "--config", cfg], { env: this.replicaEnv });
        await waitFor(async () => r.proc.proc.exitCode !== null || (existsSync(identity) && (await httpOk(`http://127.0.0.1:${diagPort}/readyz`))), 30_000, `replica ${name} ready`);
        if (r.proc.proc.exitCode !== null) throw new Error(`replica ${name} exited (${r.proc.proc.exitCode}): ${r.proc.output().slice(-2000)}`);
      },
      ctl: (...args) => run([...CLI, "ctl", "--identity", identity, ...args]),
    };
    await r.start();
    this.replicas.push(r);
    // TestCluster's ctl and agents use the first replica unless told otherwise.
    if (this.replicas.length === 1) this.useReplica(r);
    return r;
  }

  override async close(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.proc?.stop("SIGKILL")));
    await super.close();
    await this.db.drop();
  }
}
