-- Ringside schema, version 2: lobbies play a game (id and version recorded),
-- carry the game's status line, and the due time of their next durable timer.

ALTER TABLE lobbies ADD COLUMN game_id text NOT NULL DEFAULT 'connect-four';
ALTER TABLE lobbies ADD COLUMN game_version integer NOT NULL DEFAULT 1;
ALTER TABLE lobbies ADD COLUMN status_text text NOT NULL DEFAULT '';
-- The earliest timer of the lobby still to fire (database clock); NULL: none.
ALTER TABLE lobbies ADD COLUMN next_timer_at timestamptz;

-- Lobbies written before the game API cannot be replayed by it: they are
-- retired (version 0, closed, owned by nobody) rather than left to fail.
UPDATE lobbies SET game_version = 0, status = 'closed', owner_node = NULL, status_text = 'retired by an upgrade';

ALTER TABLE lobbies ALTER COLUMN game_id DROP DEFAULT;
ALTER TABLE lobbies ALTER COLUMN game_version DROP DEFAULT;

CREATE INDEX lobbies_next_timer_idx ON lobbies (next_timer_at) WHERE next_timer_at IS NOT NULL;

-- The games (id and version) each node runs: a lobby is claimed only by a node that has its game.
ALTER TABLE nodes ADD COLUMN games jsonb NOT NULL DEFAULT '[]'::jsonb;
