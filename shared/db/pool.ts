import pg from "pg";

export type Queryable = Pick<pg.Pool, "query"> | Pick<pg.PoolClient, "query">;
export type Pool = pg.Pool;

/**
 * Deadlines for every connection of a pool. Postgres enforces the statement
 * and lock timeouts; the client-side ones cover what Postgres cannot see: a
 * connect or a reply that never arrives (a black-holed network), which the
 * kernel would otherwise report only after ~15 minutes.
 */
export type DbTimeouts = {
  /** Postgres cancels a statement running longer (statement_timeout). */
  statementMs: number;
  /** Postgres cancels a statement waiting longer for a lock (lock_timeout). */
  lockMs: number;
  /** The client gives up on a reply after this long (pg's query_timeout); the connection is discarded. */
  queryMs: number;
  /** Connecting, or waiting for a free pooled connection, gives up after this long. */
  connectMs: number;
};

export const DEFAULT_DB_TIMEOUTS: DbTimeouts = { statementMs: 5000, lockMs: 2000, queryMs: 6000, connectMs: 5000 };

/** TCP keepalive probes start after this much silence (idle LISTEN connections included). */
const KEEPALIVE_IDLE_MS = 10_000;

/** Quotes an SQL identifier (schema names come from configuration). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Connection options that put every statement in the configured schema, with TCP keepalive on. */
export function connectionOptions(url: string, schema: string): pg.ClientConfig {
  return {
    connectionString: url,
    options: `-c search_path=${quoteIdent(schema)}`,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_IDLE_MS,
  };
}

/** A pool whose every query has a deadline (see DbTimeouts); `timeouts` overrides the defaults. */
export function createPool(url: string, schema: string, max = 10, timeouts: Partial<DbTimeouts> = {}): pg.Pool {
  const t = { ...DEFAULT_DB_TIMEOUTS, ...timeouts };
  const pool = new pg.Pool({
    ...connectionOptions(url, schema),
    max,
    idleTimeoutMillis: 30_000,
    statement_timeout: t.statementMs,
    lock_timeout: t.lockMs,
    query_timeout: t.queryMs,
    connectionTimeoutMillis: t.connectMs,
  });
  // An idle client whose server went away emits 'error' on the pool; without a
  // listener that would crash the process. The next query reconnects.
  pool.on("error", () => {});
  return pool;
}

/** Runs fn inside one transaction on one pooled client. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failed: unknown;
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    failed = err;
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    // A client that failed may be mid-reply (a timed-out read): never hand it to the next caller.
    client.release(failed instanceof Error ? failed : undefined);
  }
}
