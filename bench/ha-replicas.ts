// Auth replicas as production runs them: `hostward auth start` processes of the compiled
// binary, each with its own data dir and port, all on one fresh PostgreSQL database, with
// the recordings in one directory marked shared (so a second replica is allowed).
import { SQL } from "bun";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./free-port.ts";
import type { HostwardCommand } from "./hostward-build.ts";
import { startService, type Service } from "./service-process.ts";

const READY_TIMEOUT_MS = 60_000;

export interface Replica {
  name: string;
  addr: string;
  dir: string;
  service: Service;
  identity: string;
  /** Starts it again on the same config, data dir and port (after it was killed). */
  restart(): Promise<void>;
}

export interface ReplicaSet {
  url: string;
  replicas: Replica[];
  /** Removes the database (after every replica has stopped). */
  stop(): Promise<void>;
}

/** A fresh database on the server `adminUrl` points at, and `names.length` replicas on it, started one after another. */
export async function startReplicas(dir: string, hw: HostwardCommand, adminUrl: string, names: string[]): Promise<ReplicaSet> {
  const dbName = `hostward_bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = new SQL(adminUrl, { max: 1 });
  await admin.unsafe(`CREATE DATABASE ${dbName}`).simple();
  await admin.close();
  const url = adminUrl.replace(/\/[^/?]*(\?|$)/, `/${dbName}$1`);
  const shared = join(dir, "shared-recordings");
  mkdirSync(shared, { recursive: true });
  const replicas: Replica[] = [];
  const stop = async () => {
    for (const r of replicas) await r.service.stop();
    const a = new SQL(adminUrl, { max: 1 });
    await a.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).simple();
    await a.close();
  };
  try {
    for (const name of names) {
      const rdir = join(dir, `auth-${name}`);
      const addr = `127.0.0.1:${await freePort()}`;
      const cfg = join(dir, `auth-${name}.toml`);
      writeFileSync(cfg, `data_dir = "${rdir}"\nlisten = "${addr}"\nlog_level = "info"\n[store]\nurl = "${url}"\n[recordings]\nstorage = "file://${shared}"\nshared = true\n`);
      // The auth service's own file limit raised to the hard one, as systemd's unit does.
      const cmd = ["sh", "-c", 'ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"', ...hw.cmd, "auth", "start", "--config", cfg];
      const start = () => startService(`hostward auth ${name}`, cmd, /"auth service started"/, READY_TIMEOUT_MS);
      const r: Replica = {
        name, addr, dir: rdir, service: await start(), identity: join(rdir, "admin.identity"),
        restart: async () => {
          await r.service.stop();
          r.service = await start();
        },
      };
      replicas.push(r);
    }
    return { url, replicas, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
