import pg from "pg";

export type Queryable = Pick<pg.Pool, "query"> | Pick<pg.PoolClient, "query">;
export type Pool = pg.Pool;

/** Quotes an SQL identifier (schema names come from configuration). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Connection options that put every statement in the configured schema. */
export function connectionOptions(url: string, schema: string): pg.ClientConfig {
  return { connectionString: url, options: `-c search_path=${quoteIdent(schema)}` };
}

export function createPool(url: string, schema: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ ...connectionOptions(url, schema), max, idleTimeoutMillis: 30_000 });
  // An idle client whose server went away emits 'error' on the pool; without a
  // listener that would crash the process. The next query reconnects.
  pool.on("error", () => {});
  return pool;
}

/** Runs fn inside one transaction on one pooled client. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
