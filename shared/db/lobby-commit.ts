import type { LobbyGame } from "./lobbies.js";
import type { Queryable } from "./pool.js";

/**
 * The statements of the group commit: the one every ack waits for, and the
 * look-up of already-logged action ids when it fails on a duplicate.
 */

/** One lobby's share of a group commit: consecutive entries, starting right after the stored last_seq. */
export type LobbyCommit = LobbyGame & {
  code: string;
  epoch: number;
  /** Set on the lobby's first commit: the row is inserted (a taken code commits nothing). */
  create: { hostName: string; isPublic: boolean } | null;
  firstSeq: number;
  lastSeq: number;
  /** The lobby row as it is after the last entry. */
  row: { status: string; statusText: string; playerCount: number; nextTimerAt: number | null };
  /** False when `row` is what the last commit of this lobby wrote already: its columns are left alone. */
  rowChanged: boolean;
  snapshot: unknown | null;
  snapshotSeq: number | null;
  /** `json`, when given, is `event` serialised already (the node reuses it for the broadcast). */
  events: { seq: number; playerId: string | null; actionId: string | null; event: unknown; json?: string }[];
  newPlayers: { id: string; name: string }[];
};

/*
 * Why the statement looks like this (measured under bench:chat):
 * - Events go in as parallel arrays through unnest(): Postgres parses each
 *   event's JSON once, where jsonb_to_recordset parsed the whole batch as
 *   one document and then every event again as a column.
 * - The lobby row is updated on every commit (last_seq is the fence), so it
 *   must stay a HOT update (no index touched, new version on the same page):
 *   the table has free space on each page (fillfactor 70, migration 004),
 *   and updated_at, which two indexes cover, moves at most once a second
 *   (the lifecycle sweeps judge idleness in minutes).
 * - Row columns that did not change are not sent again (rowChanged).
 */
const COMMIT_SQL = `WITH head AS (
    SELECT * FROM jsonb_to_recordset($2::jsonb) AS h(code text, epoch bigint, first_seq bigint, last_seq bigint,
      row_changed boolean, status text, status_text text, player_count int, next_timer_at float8, snapshot jsonb,
      snapshot_seq bigint, game_id text, game_version int, "create" boolean, host_name text, is_public boolean)),
  created AS (
    INSERT INTO lobbies (code, owner_node, epoch, last_seq, status, status_text, player_count, next_timer_at,
      snapshot, snapshot_seq, game_id, game_version, host_name, is_public)
    SELECT h.code, $1, h.epoch, h.last_seq, h.status, h.status_text, h.player_count,
      to_timestamp(h.next_timer_at / 1000), h.snapshot, coalesce(h.snapshot_seq, 0), h.game_id, h.game_version,
      h.host_name, h.is_public
    FROM head h WHERE h."create"
    ON CONFLICT (code) DO NOTHING RETURNING code),
  fenced AS (
    UPDATE lobbies l SET last_seq = h.last_seq,
      status = CASE WHEN h.row_changed THEN h.status ELSE l.status END,
      status_text = CASE WHEN h.row_changed THEN h.status_text ELSE l.status_text END,
      player_count = CASE WHEN h.row_changed THEN h.player_count ELSE l.player_count END,
      next_timer_at = CASE WHEN h.row_changed THEN to_timestamp(h.next_timer_at / 1000) ELSE l.next_timer_at END,
      snapshot = coalesce(h.snapshot, l.snapshot), snapshot_seq = coalesce(h.snapshot_seq, l.snapshot_seq),
      game_version = greatest(l.game_version, h.game_version),
      updated_at = CASE WHEN l.updated_at < now() - interval '1 second' THEN now() ELSE l.updated_at END
    FROM head h
    WHERE NOT h."create" AND l.code = h.code AND l.owner_node = $1 AND l.epoch = h.epoch
      AND l.last_seq = h.first_seq - 1
    RETURNING l.code),
  passed AS (SELECT code FROM created UNION ALL SELECT code FROM fenced),
  logged AS (
    INSERT INTO lobby_events (code, seq, epoch, player_id, action_id, event)
    SELECT e.code, e.seq, e.epoch, e.player_id, e.action_id, e.event::jsonb
    FROM unnest($3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::text[])
      AS e(code, seq, epoch, player_id, action_id, event)
    WHERE e.code IN (SELECT code FROM passed)),
  joined AS (
    INSERT INTO players (id, name, lobby_code)
    SELECT p.id, p.name, p.lobby_code FROM jsonb_to_recordset($9::jsonb) AS p(id text, name text, lobby_code text)
    WHERE p.lobby_code IN (SELECT code FROM passed))
  SELECT code FROM passed`;

/**
 * The group commit: many lobbies' entries in ONE statement (one round trip,
 * one fsync). New lobbies are inserted; for the others the UPDATE is the
 * fence: it matches only lobbies this node still owns at the epoch it names
 * and whose stored seq is right before the batch. Entries and players are
 * inserted only for lobbies that passed. Returns the codes that committed;
 * any other lobby in the batch was fenced off (or its code was taken).
 */
export async function commitEvents(db: Queryable, node: string, commits: LobbyCommit[]): Promise<Set<string>> {
  const codes: string[] = [];
  const seqs: number[] = [];
  const epochs: number[] = [];
  const playerIds: (string | null)[] = [];
  const actionIds: (string | null)[] = [];
  const events: string[] = [];
  const players: { id: string; name: string; lobby_code: string }[] = [];
  for (const c of commits) {
    for (const e of c.events) {
      codes.push(c.code);
      seqs.push(e.seq);
      epochs.push(c.epoch);
      playerIds.push(e.playerId);
      actionIds.push(e.actionId);
      events.push(e.json ?? JSON.stringify(e.event));
    }
    for (const p of c.newPlayers) players.push({ id: p.id, name: p.name, lobby_code: c.code });
  }
  // Named, so each connection parses and plans it once: it is the statement every ack waits for.
  const { rows } = await db.query<{ code: string }>({
    name: "ringside-commit-entries-v2",
    text: COMMIT_SQL,
    values: [
      node,
      JSON.stringify(commits.map(head)),
      codes,
      seqs,
      epochs,
      playerIds,
      actionIds,
      events,
      players.length > 0 ? JSON.stringify(players) : "[]",
    ],
  });
  return new Set(rows.map((r) => r.code));
}

function head(c: LobbyCommit): Record<string, unknown> {
  const h: Record<string, unknown> = {
    code: c.code,
    epoch: c.epoch,
    first_seq: c.firstSeq,
    last_seq: c.lastSeq,
    row_changed: c.rowChanged || c.create !== null,
    snapshot: c.snapshot,
    snapshot_seq: c.snapshotSeq,
    game_id: c.gameId,
    game_version: c.gameVersion,
    create: c.create !== null,
  };
  if (h.row_changed) {
    h.status = c.row.status;
    h.status_text = c.row.statusText;
    h.player_count = c.row.playerCount;
    h.next_timer_at = c.row.nextTimerAt;
  }
  if (c.create) {
    h.host_name = c.create.hostName;
    h.is_public = c.create.isPublic;
  }
  return h;
}

/** Which of these actions of one lobby are in its log already, as "playerId/actionId" -> seq. */
export async function findLoggedActions(
  db: Queryable,
  code: string,
  actions: { playerId: string; actionId: string }[],
): Promise<Map<string, number>> {
  if (actions.length === 0) return new Map();
  const { rows } = await db.query<{ playerId: string; actionId: string; seq: number }>(
    `SELECT e.player_id AS "playerId", e.action_id AS "actionId", e.seq::int AS seq
     FROM unnest($2::text[], $3::text[]) AS a(player_id, action_id)
     JOIN lobby_events e ON e.code = $1 AND e.player_id = a.player_id AND e.action_id = a.action_id`,
    [code, actions.map((a) => a.playerId), actions.map((a) => a.actionId)],
  );
  return new Map(rows.map((r) => [`${r.playerId}/${r.actionId}`, r.seq]));
}
