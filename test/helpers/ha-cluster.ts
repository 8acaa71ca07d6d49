// A test cluster of several auth replicas on one private PostgreSQL database, with the
// recordings in a directory every replica shares; agents and ctl from TestCluster.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestCluster } from "./cluster.ts";
import { createTestDatabase, type TestDatabase } from "./postgres.ts";
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

  private constructor(readonly db: TestDatabase, readonly storeExtra: string) {
    super(storeExtra);
  }

  static async create(extra = ""): Promise<HaCluster> {
    const db = await createTestDatabase();
    const c = new HaCluster(db, "");
    const shared = join(c.dir, "shared-recordings");
    mkdirSync(shared, { recursive: true });
    (c as { storeExtra: string }).storeExtra = `${extra}\n[store]\nurl = "${db.url}"\npool = 4\n[recordings]\nstorage = "file://${shared}"\nshared = true\n`;
    return c;
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
        r.proc = startProc([...CLI, "auth", "start", "--config", cfg]);
        await waitFor(async () => r.proc.proc.exitCode !== null || (existsSync(identity) && (await httpOk(`http://127.0.0.1:${diagPort}/readyz`))), 30_000, `replica ${name} ready`);
        if (r.proc.proc.exitCode !== null) throw new Error(`replica ${name} exited (${r.proc.proc.exitCode}): ${r.proc.output().slice(-2000)}`);
      },
      ctl: (...args) => run([...CLI, "ctl", "--identity", identity, ...args]),
    };
    await r.start();
    this.replicas.push(r);
    // TestCluster's ctl and agents use the first replica unless told otherwise.
    if (this.replicas.length === 1) {
      this.authPort = port;
      this.authDiagPort = diagPort;
      (this as { identity: string }).identity = identity;
      this.auth = r.proc;
    }
    return r;
  }

  override async close(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.proc?.stop("SIGKILL")));
    await super.close();
    await this.db.drop();
  }
}
