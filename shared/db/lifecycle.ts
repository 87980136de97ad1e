import type { LobbyGame, Ownership } from "./lobbies.js";
import type { Queryable } from "./pool.js";

/**
 * Every SQL statement about a lobby's life after its players: which orphans
 * of a dead node are still active (claimed at once) and releasing the rest
 * (claimed on their next request), closing lobbies nobody uses any more, and
 * retiring the logs of closed ones. A lobby is "active" when it committed
 * recently, has a timer pending, or someone is connected to it.
 */

const ACTIVE = (windowMs: string) => `(l.updated_at > now() - make_interval(secs => ${windowMs}::float8 / 1000)
  OR l.next_timer_at IS NOT NULL
  OR EXISTS (SELECT 1 FROM presence p WHERE p.lobby_code = l.code))`;

/**
 * The active lobbies still recorded as owned by any of these (dead) nodes: survivors claim these at once.
 * One branch per kind of activity, each served by its own index (recent commits: lobbies_open_updated_idx;
 * timers: lobbies_next_timer_idx; players: presence), so the query costs what the ACTIVE lobbies cost, not
 * what every lobby the dead node ever owned costs (a filter over all of them took ~25 ms per pass with 16,000).
 */
export async function listActiveOrphans(
  db: Queryable,
  nodes: string[],
  activeWindowMs: number,
): Promise<(Ownership & LobbyGame)[]> {
  const columns = `l.code, l.owner_node AS owner, l.epoch::int AS epoch, l.game_id AS "gameId", l.game_version AS "gameVersion"`;
  const orphan = `l.owner_node = ANY($1::text[]) AND l.status <> 'closed'`;
  const { rows } = await db.query<Ownership & LobbyGame>(
    `SELECT ${columns} FROM lobbies l
       WHERE ${orphan} AND l.updated_at > now() - make_interval(secs => $2::float8 / 1000)
     UNION
     SELECT ${columns} FROM lobbies l WHERE ${orphan} AND l.next_timer_at IS NOT NULL
     UNION
     SELECT ${columns} FROM lobbies l WHERE ${orphan} AND l.code IN (SELECT p.lobby_code FROM presence p)`,
    [nodes, activeWindowMs],
  );
  return rows;
}

/**
 * Releases (owner NULL, epoch + 1, so the dead node stays fenced) up to
 * `limit` inactive lobbies of dead nodes: the ring owner claims each on its
 * next request, and balancers keep no exception for them. Returns how many.
 */
export async function releaseInactiveOrphans(
  db: Queryable,
  nodes: string[],
  activeWindowMs: number,
  limit: number,
): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE lobbies SET owner_node = NULL, epoch = epoch + 1, owner_since = now()
     WHERE code IN (
       SELECT l.code FROM lobbies l WHERE l.owner_node = ANY($1::text[]) AND NOT ${ACTIVE("$2")}
       LIMIT $3 FOR UPDATE SKIP LOCKED)`,
    [nodes, activeWindowMs, limit],
  );
  return rowCount ?? 0;
}

/**
 * Releases lobbies this node owns and does not hold in memory (owner NULL,
 * epoch + 1): a rebalance moves idle lobbies in one statement, and each is
 * claimed by its ring owner on its next request (or when a timer of it falls
 * due). Returns how many were released.
 */
export async function releaseOwnedLobbies(db: Queryable, node: string, codes: string[]): Promise<number> {
  if (codes.length === 0) return 0;
  const { rowCount } = await db.query(
    `UPDATE lobbies SET owner_node = NULL, epoch = epoch + 1, owner_since = now()
     WHERE owner_node = $1 AND code = ANY($2::text[])`,
    [node, codes],
  );
  return rowCount ?? 0;
}

/**
 * A drain's last step: releases every lobby still recorded as this node's
 * except `kept` (lobbies it still serves because their handoff failed), in
 * ONE statement however many there are (owner NULL, epoch + 1, so a copy
 * still in memory anywhere is fenced). Successors claim each lazily, on its
 * next request or timer. Returns how many were released.
 */
export async function releaseAllOwnedExcept(db: Queryable, node: string, kept: string[]): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE lobbies SET owner_node = NULL, epoch = epoch + 1, owner_since = now()
     WHERE owner_node = $1 AND NOT (code = ANY($2::text[]))`,
    [node, kept],
  );
  return rowCount ?? 0;
}

/**
 * Closes up to `limit` lobbies owned here (or by nobody) that have been left
 * alone: finished and untouched for `finishedMs`, or untouched for
 * `abandonedMs`, with nobody connected and no timer pending. Each gets a
 * `closed` entry at last_seq + 1 in the same statement, so a node that loads
 * it afterwards replays the close, and one that still holds it in memory
 * (someone only looked at it) finds its next commit fenced by the seq and
 * reloads it. Returns the closed codes.
 */
export async function closeIdleLobbies(
  db: Queryable,
  node: string,
  windows: { finishedMs: number; abandonedMs: number },
  limit: number,
): Promise<string[]> {
  const { rows } = await db.query<{ code: string }>(
    `WITH doomed AS (
       SELECT l.code FROM lobbies l
       WHERE (l.owner_node = $1 OR l.owner_node IS NULL) AND l.status <> 'closed' AND l.game_version > 0
         AND l.next_timer_at IS NULL
         AND l.updated_at < now() - make_interval(secs => (CASE WHEN l.status = 'finished' THEN $2 ELSE $3 END)::float8 / 1000)
         AND NOT EXISTS (SELECT 1 FROM presence p WHERE p.lobby_code = l.code)
       LIMIT $4 FOR UPDATE SKIP LOCKED),
     closed AS (
       UPDATE lobbies l SET status = 'closed', status_text = CASE WHEN l.status = 'finished' THEN 'game over' ELSE 'abandoned' END,
         last_seq = l.last_seq + 1, updated_at = now()
       FROM doomed WHERE l.code = doomed.code
       RETURNING l.code, l.last_seq, l.epoch, l.status_text)
     INSERT INTO lobby_events (code, seq, epoch, event)
       SELECT code, last_seq, epoch, jsonb_build_object('kind', 'closed', 'reason', status_text) FROM closed
     RETURNING code`,
    [node, windows.finishedMs, windows.abandonedMs, limit],
  );
  return rows.map((r) => r.code);
}

/**
 * Retires lobbies closed for longer than `retentionMs`: their log and player
 * rows are deleted; the lobby row stays as a small tombstone (code, game,
 * host, when) with game_version 0, so the code is never reused and a request
 * for it gets 410. Returns how many lobbies were retired.
 */
export async function retireClosedLobbies(db: Queryable, retentionMs: number, limit: number): Promise<number> {
  const { rows } = await db.query<{ code: string }>(
    `WITH retired AS (
       UPDATE lobbies l SET game_version = 0, owner_node = NULL, snapshot = NULL, status_text = 'retired'
       WHERE l.code IN (
         SELECT code FROM lobbies WHERE status = 'closed' AND game_version > 0
           AND updated_at < now() - make_interval(secs => $1::float8 / 1000)
         LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING l.code),
     events AS (DELETE FROM lobby_events WHERE code IN (SELECT code FROM retired)),
     players AS (DELETE FROM players WHERE lobby_code IN (SELECT code FROM retired))
     SELECT code FROM retired`,
    [retentionMs, limit],
  );
  return rows.length;
}
