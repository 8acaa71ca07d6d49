// A private PostgreSQL database for one test run on the local server (127.0.0.1:5432,
// trust auth, user postgres; `.ci/run` installs and starts it). Dropped afterwards.
import { SQL } from "bun";

export const PG_ADMIN_URL = process.env.HOSTWARD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  url: string;
  /** Empties the database (drops and recreates its schema) for the next test. */
  reset(): Promise<void>;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `hostward_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = new SQL(PG_ADMIN_URL, { max: 1 });
  await admin.unsafe(`CREATE DATABASE ${name}`).simple();
  await admin.close();
  const url = PG_ADMIN_URL.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
  return {
    url,
    async reset() {
      const db = new SQL(url, { max: 1 });
      await db.unsafe("DROP SCHEMA public CASCADE; CREATE SCHEMA public").simple();
      await db.close();
    },
    async drop() {
      const a = new SQL(PG_ADMIN_URL, { max: 1 });
      await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).simple();
      await a.close();
    },
  };
}
