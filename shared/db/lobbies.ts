import type { Queryable } from "./pool.js";

/**
 * Every SQL statement about lobbies, their ownership and their event log.
 * Ownership is fenced by `epoch`: a write names the epoch its node holds and
 * touches nothing once a claim or handoff has moved the epoch on.
 */

export type Ownership = { code: string; owner: string | null; epoch: number };

/** Which game a lobby plays, at which version (a node claims only lobbies whose game it has). */
export type LobbyGame = { gameId: string; gameVersion: number };

/** The games a node has, as parallel arrays for SQL (GameCatalog.versions()). */
export type GameVersions = { ids: string[]; versions: number[] };

export type StoredLobbyRow = LobbyGame & {
  code: string;
  owner: string | null;
  epoch: number;
  lastSeq: number;
  snapshot: unknown;
  snapshotSeq: number;
};

export type LoggedEvent = { seq: number; event: unknown; playerId: string | null; actionId: string | null };

export type OwnershipRow = Ownership & LobbyGame & { ownerAlive: boolean };

export async function getOwnership(db: Queryable, code: string): Promise<OwnershipRow | null> {
  const { rows } = await db.query<OwnershipRow>(
    `SELECT l.code, l.owner_node AS owner, l.epoch::int AS epoch, l.game_id AS "gameId", l.game_version AS "gameVersion",
       coalesce(n.state <> 'dead' AND n.lease_expires > now(), false) AS "ownerAlive"
     FROM lobbies l LEFT JOIN nodes n ON n.id = l.owner_node WHERE l.code = $1`,
    [code],
  );
  return rows[0] ?? null;
}

/** The columns of a StoredLobbyRow; `of` names the row where a statement joins tables with the same columns. */
const storedColumns = (of = "") =>
  `${of}code, ${of}owner_node AS owner, ${of}epoch::int AS epoch, ${of}last_seq::int AS "lastSeq",
  ${of}snapshot, ${of}snapshot_seq::int AS "snapshotSeq", ${of}game_id AS "gameId", ${of}game_version AS "gameVersion"`;
const STORED_COLUMNS = storedColumns();

/** SQL: the lobby row `l` plays a game this node has, at its version or older ($games arrays). */
const HAS_GAME = (ids: string, versions: string) =>
  `EXISTS (SELECT 1 FROM unnest(${ids}::text[], ${versions}::int[]) AS g(id, version)
     WHERE g.id = l.game_id AND g.version >= l.game_version AND l.game_version > 0)`;

/**
 * Takes ownership of a lobby whose owner is dead, gone or out of lease (epoch + 1).
 * Exactly one of several concurrent claimants gets a row back: the row is
 * locked, and the others re-check the owner after the winner committed.
 */
export async function claimOrphanedLobby(
  db: Queryable,
  code: string,
  claimant: string,
  games: GameVersions,
): Promise<StoredLobbyRow | null> {
  return (await claimOrphanedLobbies(db, [code], claimant, games))[0] ?? null;
}

/**
 * Claims of orphaned lobbies, many in one statement (see claimOrphanedLobby for the rule): returns the rows
 * it took; the others were claimed by someone else first, or their owner is alive. Rows are locked in code
 * order, so two such statements over overlapping codes wait for each other instead of deadlocking.
 */
export async function claimOrphanedLobbies(
  db: Queryable,
  codes: string[],
  claimant: string,
  games: GameVersions,
): Promise<(StoredLobbyRow & { previousOwner: string | null })[]> {
  const { rows } = await db.query<StoredLobbyRow & { previousOwner: string | null }>(
    `WITH locked AS (
       SELECT code, owner_node FROM lobbies WHERE code = ANY($1::text[]) ORDER BY code FOR UPDATE)
     UPDATE lobbies l SET owner_node = $2, epoch = l.epoch + 1, owner_since = now()
     FROM locked
     WHERE l.code = locked.code AND ${HAS_GAME("$3", "$4")} AND (l.owner_node IS NULL OR NOT EXISTS (
       SELECT 1 FROM nodes n WHERE n.id = l.owner_node AND n.state <> 'dead' AND n.lease_expires > now()))
     RETURNING ${storedColumns("l.")}, locked.owner_node AS "previousOwner"`,
    [codes, claimant, games.ids, games.versions],
  );
  return rows;
}

/** Hands a lobby to another node (graceful handoff): only the current holder of `epoch` can. */
export async function transferLobby(
  db: Queryable,
  code: string,
  from: { node: string; epoch: number },
  to: string,
): Promise<number | null> {
  const { rows } = await db.query<{ epoch: number }>(
    `UPDATE lobbies SET owner_node = $4, epoch = epoch + 1, owner_since = now()
     WHERE code = $1 AND owner_node = $2 AND epoch = $3 RETURNING epoch::int AS epoch`,
    [code, from.node, from.epoch, to],
  );
  return rows[0]?.epoch ?? null;
}

export async function readEventsAfter(
  db: Queryable,
  code: string,
  afterSeq: number,
  limit = 100_000,
): Promise<LoggedEvent[]> {
  const { rows } = await db.query<LoggedEvent>(
    `SELECT seq::int AS seq, event, player_id AS "playerId", action_id AS "actionId"
     FROM lobby_events WHERE code = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    [code, afterSeq, limit],
  );
  return rows;
}

/** The log entries of many lobbies, each after its own seq, in one read: code -> entries in seq order. */
export async function readEventsAfterMany(
  db: Queryable,
  after: { code: string; seq: number }[],
): Promise<Map<string, LoggedEvent[]>> {
  const { rows } = await db.query<LoggedEvent & { code: string }>(
    `SELECT e.code, e.seq::int AS seq, e.event, e.player_id AS "playerId", e.action_id AS "actionId"
     FROM unnest($1::text[], $2::bigint[]) AS a(code, seq)
     JOIN lobby_events e ON e.code = a.code AND e.seq > a.seq
     ORDER BY e.code, e.seq`,
    [after.map((a) => a.code), after.map((a) => a.seq)],
  );
  const byCode = new Map<string, LoggedEvent[]>();
  for (const { code, ...event } of rows) {
    const list = byCode.get(code);
    if (list) list.push(event);
    else byCode.set(code, [event]);
  }
  return byCode;
}

/** Lobbies a node owns (for drain and for the ops view). */
export async function listLobbiesOwnedBy(db: Queryable, node: string): Promise<Ownership[]> {
  const { rows } = await db.query<Ownership>(
    `SELECT code, owner_node AS owner, epoch::int AS epoch FROM lobbies WHERE owner_node = $1`,
    [node],
  );
  return rows;
}

/**
 * Every owned lobby, a page at a time in code order (the balancers' full
 * re-read): 50,000 rows in one result held a balancer's event loop for
 * ~100 ms. `cursor` is the newest owner_since on the page.
 */
export async function listOwnedLobbiesPage(
  db: Queryable,
  afterCode: string | null,
  limit: number,
): Promise<{ rows: Ownership[]; cursor: Date | null }> {
  const { rows } = await db.query<Ownership & { owner_since: Date }>(
    `SELECT code, owner_node AS owner, epoch::int AS epoch, owner_since FROM lobbies
     WHERE owner_node IS NOT NULL AND ($1::text IS NULL OR code > $1)
     ORDER BY code LIMIT $2`,
    [afterCode, limit],
  );
  let cursor: Date | null = null;
  const page: Ownership[] = [];
  for (const { owner_since, ...o } of rows) {
    if (!cursor || owner_since > cursor) cursor = owner_since;
    page.push(o);
  }
  return { rows: page, cursor };
}

/**
 * Ownership changed since a cursor (Postgres time), for the balancers'
 * routing caches; released lobbies (owner NULL) included, so an exception
 * pointing at their last owner is dropped. (The full re-read is
 * listOwnedLobbiesPage.)
 */
export async function listOwnershipChanges(db: Queryable, since: Date): Promise<{ rows: Ownership[]; cursor: Date }> {
  const { rows } = await db.query<Ownership & { owner_since: Date }>(
    `SELECT code, owner_node AS owner, epoch::int AS epoch, owner_since FROM lobbies
     WHERE owner_since >= $1 ORDER BY owner_since`,
    [since],
  );
  const last = rows.at(-1);
  return { rows: rows.map(({ owner_since: _, ...o }) => o), cursor: last ? last.owner_since : since };
}

export type DirectoryRow = {
  code: string;
  game: string;
  status: string;
  statusText: string;
  host: string;
  players: number;
  online: number;
  createdAt: Date;
};

/** The public lobby directory: newest first, with how many players are connected right now. */
export async function listPublicLobbies(db: Queryable, limit = 100): Promise<DirectoryRow[]> {
  const { rows } = await db.query<DirectoryRow>(
    `SELECT l.code, l.game_id AS game, l.status, l.status_text AS "statusText", l.host_name AS host,
       l.player_count AS players,
       (SELECT count(*)::int FROM presence p WHERE p.lobby_code = l.code) AS online, l.created_at AS "createdAt"
     FROM lobbies l WHERE l.is_public AND l.status <> 'closed' ORDER BY l.created_at DESC LIMIT $1`,
    [limit],
  );
  return rows;
}

export async function playerName(db: Queryable, playerId: string): Promise<{ name: string; lobby: string } | null> {
  const { rows } = await db.query<{ name: string; lobby: string }>(
    "SELECT name, lobby_code AS lobby FROM players WHERE id = $1",
    [playerId],
  );
  return rows[0] ?? null;
}

/** A lobby's ownership as a loading node finds it; when the node owns it, reclaimed (epoch + 1) with its log. */
export type LoadableLobby = OwnershipRow & { reclaimed: StoredLobbyRow | null; events: LoggedEvent[] };

/**
 * The first step of loading a lobby, in ONE round trip: who owns it, and if
 * it is `node` (its own lobby, idle-unloaded or handed to it), the lobby
 * reclaimed under epoch + 1 (an older incarnation of this node still holding
 * it can commit nothing more) and the log entries after its snapshot. Loading
 * its own lobby took three statements one after the other; under load each
 * waited its turn at Postgres, and a handed-off lobby's players waited for
 * all three. Ownership columns are as before the reclaim (one snapshot).
 */
export async function findLoadableLobby(db: Queryable, code: string, node: string): Promise<LoadableLobby | null> {
  const { rows } = await db.query<LoadableLobby>(
    `WITH mine AS (
       UPDATE lobbies SET epoch = epoch + 1, owner_since = now()
       WHERE code = $1 AND owner_node = $2 AND game_version > 0 RETURNING ${STORED_COLUMNS})
     SELECT l.code, l.owner_node AS owner, l.epoch::int AS epoch, l.game_id AS "gameId",
       l.game_version AS "gameVersion", coalesce(n.state <> 'dead' AND n.lease_expires > now(), false) AS "ownerAlive",
       (SELECT to_jsonb(mine) FROM mine) AS reclaimed,
       (SELECT coalesce(jsonb_agg(jsonb_build_object('seq', e.seq, 'event', e.event, 'playerId', e.player_id,
          'actionId', e.action_id) ORDER BY e.seq), '[]'::jsonb)
        FROM mine JOIN lobby_events e ON e.code = mine.code AND e.seq > mine."snapshotSeq") AS events
     FROM lobbies l LEFT JOIN nodes n ON n.id = l.owner_node WHERE l.code = $1`,
    [code, node],
  );
  return rows[0] ?? null;
}

/**
 * Lobbies owned by this node, or released (owned by nobody), whose next timer
 * is due by `withinMs` from now (database clock), for loading them.
 */
export async function listTimersDue(
  db: Queryable,
  node: string,
  withinMs: number,
): Promise<{ code: string; owned: boolean }[]> {
  const { rows } = await db.query<{ code: string; owned: boolean }>(
    `SELECT code, owner_node IS NOT NULL AS owned FROM lobbies
     WHERE (owner_node = $1 OR owner_node IS NULL) AND next_timer_at IS NOT NULL AND game_version > 0
       AND next_timer_at <= now() + make_interval(secs => $2::float8 / 1000)`,
    [node, withinMs],
  );
  return rows;
}

/** The database's clock, in ms since the epoch (nodes judge timers by it). */
export async function databaseNow(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ now: number }>("SELECT extract(epoch FROM clock_timestamp()) * 1000 AS now");
  return Number(rows[0]?.now);
}

/** How many lobbies each node is recorded to own (the balancer's admin ring view). */
export async function countLobbiesByOwner(db: Queryable): Promise<{ owner: string; lobbies: number }[]> {
  const { rows } = await db.query<{ owner: string; lobbies: number }>(
    "SELECT owner_node AS owner, count(*)::int AS lobbies FROM lobbies WHERE owner_node IS NOT NULL GROUP BY owner_node",
  );
  return rows;
}

export type LogEntry = { code: string; seq: number; epoch: number; playerId: string | null; actionId: string | null };

/** The logged actions of some lobbies, in order (drills and tests check acked actions against it). */
export async function readLogOf(db: Queryable, codes: string[]): Promise<LogEntry[]> {
  const { rows } = await db.query<LogEntry>(
    `SELECT code, seq::int AS seq, epoch::int AS epoch, player_id AS "playerId", action_id AS "actionId"
     FROM lobby_events WHERE code = ANY($1::text[]) ORDER BY code, seq`,
    [codes],
  );
  return rows;
}
