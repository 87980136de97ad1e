import type { Queryable } from "./pool.js";

/**
 * Every SQL statement about presence: who is connected to which lobby on which
 * node. Written when sockets open and close; `last_seen` is refreshed for all
 * of a node's rows in one statement per interval, never one per player.
 */

/**
 * One statement for a batch of opens and closes on one node (each player at
 * most once): the closed players' rows this node wrote are removed, the
 * opened ones written as connected here now.
 */
export async function writePresenceChanges(
  db: Queryable,
  node: string,
  opened: { playerId: string; code: string }[],
  closed: string[],
): Promise<void> {
  await db.query(
    `WITH gone AS (DELETE FROM presence WHERE node_id = $1 AND player_id = ANY($4::text[]))
     INSERT INTO presence (player_id, lobby_code, node_id)
     SELECT p.player_id, p.code, $1 FROM unnest($2::text[], $3::text[]) AS p(player_id, code)
     ON CONFLICT (player_id) DO UPDATE SET lobby_code = EXCLUDED.lobby_code, node_id = EXCLUDED.node_id,
       connected_at = now(), last_seen = now()`,
    [node, opened.map((o) => o.playerId), opened.map((o) => o.code), closed],
  );
}

/** Refreshes last_seen for every player connected to a node, and re-adds any row lost meanwhile. */
export async function touchPresence(
  db: Queryable,
  node: string,
  connected: { playerId: string; code: string }[],
): Promise<void> {
  await db.query(
    `INSERT INTO presence (player_id, lobby_code, node_id)
     SELECT p.player_id, p.code, $1 FROM unnest($2::text[], $3::text[]) AS p(player_id, code)
     ON CONFLICT (player_id) DO UPDATE SET last_seen = now()
       WHERE presence.node_id = EXCLUDED.node_id`,
    [node, connected.map((c) => c.playerId), connected.map((c) => c.code)],
  );
}

/** Crash recovery: rows of dead nodes, and rows nobody refreshed for `staleMs`. */
export async function removeStalePresence(db: Queryable, staleMs: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM presence p WHERE p.last_seen < now() - make_interval(secs => $1::float8 / 1000)
       OR NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = p.node_id AND n.state <> 'dead')`,
    [staleMs],
  );
  return rowCount ?? 0;
}

export async function removeNodePresence(db: Queryable, node: string): Promise<number> {
  const { rowCount } = await db.query("DELETE FROM presence WHERE node_id = $1", [node]);
  return rowCount ?? 0;
}

export type ClusterStats = { nodes: number; lobbies: number; players: number };

/** Cluster-wide counts from Postgres: live nodes, lobbies with someone connected, connected players. */
export async function clusterStats(db: Queryable): Promise<ClusterStats> {
  const { rows } = await db.query<ClusterStats>(
    `SELECT (SELECT count(*)::int FROM nodes WHERE state IN ('active', 'draining') AND lease_expires > now()) AS nodes,
       count(DISTINCT lobby_code)::int AS lobbies, count(*)::int AS players FROM presence`,
  );
  return rows[0] ?? { nodes: 0, lobbies: 0, players: 0 };
}

export async function lobbyPresence(db: Queryable, code: string): Promise<{ playerId: string; node: string }[]> {
  const { rows } = await db.query<{ playerId: string; node: string }>(
    `SELECT player_id AS "playerId", node_id AS node FROM presence WHERE lobby_code = $1`,
    [code],
  );
  return rows;
}

/** Which node a player is connected to right now, if any (direct messages go there). */
export async function findPlayerNode(db: Queryable, playerId: string): Promise<string | null> {
  const { rows } = await db.query<{ node_id: string }>("SELECT node_id FROM presence WHERE player_id = $1", [playerId]);
  return rows[0]?.node_id ?? null;
}
