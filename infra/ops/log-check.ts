import { readLogOf } from "../../shared/db/lobbies.js";
import { createPool } from "../../shared/db/pool.js";
import { type AckRecord, verifyAcked } from "./game-traffic.js";

/**
 * The durability half of the drill: every action the players saw acked must
 * be in the lobbies' durable log in Postgres, once, at its acked seq.
 */

/** What `npm start` uses when DATABASE_URL is unset (shared/db/embedded.ts, port 54329). */
export const EMBEDDED_DATABASE_URL = "postgres://postgres:ringside@127.0.0.1:54329/postgres";

export type LogSource = { databaseUrl: string; schema: string };

/** The environment first, then what the local cluster wrote in .data/cluster.json, then npm start's defaults. */
export function defaultLogSource(
  env: NodeJS.ProcessEnv = process.env,
  cluster: { databaseUrl?: string; schema?: string } | null = null,
): LogSource {
  return {
    databaseUrl: env.DATABASE_URL || cluster?.databaseUrl || EMBEDDED_DATABASE_URL,
    schema: env.RINGSIDE_SCHEMA || cluster?.schema || "ringside",
  };
}

export class LogCheckError extends Error {
  override readonly name = "LogCheckError";
}

/** Before any node is killed: can we read the log at all? A drill that cannot be checked is not worth a kill. */
export async function probeLogSource(source: LogSource): Promise<void> {
  const pool = createPool(source.databaseUrl, source.schema, 1);
  try {
    await pool.query("SELECT 1 FROM lobby_events LIMIT 1");
  } catch (err) {
    throw new LogCheckError(
      `cannot read the log at ${redact(source.databaseUrl)} (schema "${source.schema}"): ${message(err)}; ` +
        "pass --database-url / --schema (or DATABASE_URL / RINGSIDE_SCHEMA) as the cluster was started with",
    );
  } finally {
    await pool.end();
  }
}

export async function checkAckedAgainstLog(source: LogSource, codes: string[], acked: AckRecord[]) {
  const pool = createPool(source.databaseUrl, source.schema, 2);
  try {
    const log = await readLogOf(pool, codes).catch((err: unknown) => {
      throw new LogCheckError(
        `cannot read the log at ${redact(source.databaseUrl)} (schema "${source.schema}"): ${message(err)}`,
      );
    });
    // An empty log for lobbies that got acks means we are looking at another
    // database or schema than the cluster writes to, not that everything was lost.
    if (log.length === 0 && acked.length > 0) {
      throw new LogCheckError(
        `none of the drill's ${codes.length} lobbies is in the log at ${redact(source.databaseUrl)} (schema "${source.schema}"): ` +
          "pass --database-url / --schema (or DATABASE_URL / RINGSIDE_SCHEMA) as the cluster was started with",
      );
    }
    return verifyAcked(acked, log);
  } finally {
    await pool.end();
  }
}

export function redact(url: string): string {
  return url.replace(/:[^:@/]*@/, ":***@");
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
