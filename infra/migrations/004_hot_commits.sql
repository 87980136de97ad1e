-- Ringside schema, version 4: every group commit updates its lobbies' rows
-- (last_seq is the fence), so those updates must be HOT: the new row version
-- goes on the same page and no index is touched. That needs free room on
-- each page (fillfactor 70; pages written from now on keep it) and no
-- indexed column changing, which is why the commit moves updated_at at most
-- once a second (shared/db/lobby-commit.ts).
ALTER TABLE lobbies SET (fillfactor = 70);
