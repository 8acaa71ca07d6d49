// A private PostgreSQL database for one benchmark run on the local server: created
// before, dropped after (even when the run fails). HOSTWARD_BENCH_PG names the server.
import { SQL } from "bun";

const PG_ADMIN = process.env.HOSTWARD_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/postgres";

export async function withBenchDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const dbName = `hostward_bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = new SQL(PG_ADMIN, { max: 1 });
  await admin.unsafe(`CREATE DATABASE ${dbName}`).simple();
  try {
    return await fn(PG_ADMIN.replace(/\/[^/?]*(\?|$)/, `/${dbName}$1`));
  } finally {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).simple();
    await admin.close();
  }
}
