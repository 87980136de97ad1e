import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { dropSchema, migrate } from "../../shared/db/migrate.js";
import { createPool, type Pool } from "../../shared/db/pool.js";
import { eventually } from "./wait.js";

export type TestDatabase = {
  url: string;
  schema: string;
  pool: Pool;
  /** Drops the schema and closes the pool. */
  cleanup: () => Promise<void>;
};

/** A fresh, migrated schema of its own for one test file, so files can run in parallel. */
export async function createTestDatabase(label = "t"): Promise<TestDatabase> {
  const url = inject("databaseUrl");
  const schema = `test_${label.replace(/[^a-z0-9_]/g, "_").slice(0, 20)}_${randomBytes(4).toString("hex")}`;
  await migrate(url, schema);
  const pool = createPool(url, schema, 5);
  return {
    url,
    schema,
    pool,
    cleanup: async () => {
      await pool.end();
      await dropSchema(url, schema);
    },
  };
}

/** Resolves once a group commit waits for a row lock (a test holds one to hang the commit). */
export async function commitWaitingForLock(pool: Pool): Promise<void> {
  await eventually(
    async () => {
      const { rows } = await pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%jsonb_to_recordset%'",
      );
      return (rows[0]?.n ?? 0) > 0;
    },
    { what: "a commit waiting for the lock" },
  );
}
