-- Ringside schema, version 3: the lobby lifecycle's sweeps (close lobbies left
-- alone, retire closed ones) look at when a lobby last changed (updated_at:
-- its last commit; ownership changes set owner_since only), among the open
-- ones and among the closed ones; neither may scan every lobby ever created.
CREATE INDEX lobbies_open_updated_idx ON lobbies (updated_at) WHERE status <> 'closed';
CREATE INDEX lobbies_closed_updated_idx ON lobbies (updated_at) WHERE status = 'closed' AND game_version > 0;
