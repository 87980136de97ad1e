import { type Queryable, quoteIdent } from "./pool.js";

/**
 * Every SQL statement of the Postgres event bus: NOTIFY/LISTEN, and the
 * bus_payloads table that carries messages too large for a notification
 * (NOTIFY payloads must stay under 8000 bytes).
 */

/**
 * Sends notifications in array order in one statement, hence one transaction:
 * listeners get them together and in this order, when it commits.
 */
export async function notifyMany(db: Queryable, channels: string[], payloads: string[]): Promise<void> {
  // Named: prepared once per connection, since every publish runs it.
  await db.query({
    name: "ringside-bus-notify",
    text: "SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) AS t(c, p)",
    values: [channels, payloads],
  });
}

/** channel is the notification channel verbatim; as an identifier it must be quoted to keep its case and dots. */
export async function listen(db: Queryable, channel: string): Promise<void> {
  await db.query(`LISTEN ${quoteIdent(channel)}`);
}

/** One round trip for all channels (after a reconnect). */
export async function listenAll(db: Queryable, channels: string[]): Promise<void> {
  if (channels.length === 0) return;
  await db.query(channels.map((channel) => `LISTEN ${quoteIdent(channel)}`).join("; "));
}

export async function unlisten(db: Queryable, channel: string): Promise<void> {
  await db.query(`UNLISTEN ${quoteIdent(channel)}`);
}

export async function backendPid(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
  return rows[0]?.pid ?? 0;
}

export async function ping(db: Queryable): Promise<void> {
  await db.query("SELECT 1");
}

/** Stores a large message; returns its id for the notification to carry. */
export async function storeBusPayload(db: Queryable, channel: string, payload: string): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    "INSERT INTO bus_payloads (channel, payload) VALUES ($1, $2) RETURNING id::text AS id",
    [channel, payload],
  );
  const id = rows[0]?.id;
  if (id === undefined) throw new Error("bus_payloads insert returned no id");
  return id;
}

/** null when the row is gone (deleted by the cleanup: the receiver was too slow). */
export async function fetchBusPayload(db: Queryable, id: string): Promise<string | null> {
  const { rows } = await db.query<{ payload: string }>("SELECT payload FROM bus_payloads WHERE id = $1::bigint", [id]);
  return rows[0]?.payload ?? null;
}

/** Deletes payloads older than maxAgeMs (judged by Postgres time); returns how many. */
export async function deleteOldBusPayloads(db: Queryable, maxAgeMs: number): Promise<number> {
  const { rowCount } = await db.query(
    "DELETE FROM bus_payloads WHERE created_at < now() - make_interval(secs => $1::float8 / 1000)",
    [maxAgeMs],
  );
  return rowCount ?? 0;
}
