import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { dropSchema, migrate } from "../../shared/db/migrate.js";
import { createPool, type Pool } from "../../shared/db/pool.js";

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
