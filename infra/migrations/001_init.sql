-- Ringside schema, version 1. Every table lives in the schema named by
-- RINGSIDE_SCHEMA (the migration runner sets search_path), so test files can
-- each have their own.

-- Node membership. A node is alive while its lease (judged in Postgres time)
-- has not expired and its state is not 'dead'.
CREATE TABLE nodes (
  id            text PRIMARY KEY,
  url           text NOT NULL,
  state         text NOT NULL CHECK (state IN ('joining', 'active', 'draining', 'dead')),
  weight        integer NOT NULL DEFAULT 1 CHECK (weight BETWEEN 0 AND 100),
  incarnation   bigint NOT NULL DEFAULT 1,
  lease_expires timestamptz NOT NULL,
  started_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  dead_reason   text
);

-- Lobbies and their ownership. epoch is the fencing token: every durable write
-- for a lobby names the epoch it holds, and fails once the epoch moved on.
CREATE TABLE lobbies (
  code          text PRIMARY KEY,
  owner_node    text,
  owner_since   timestamptz NOT NULL DEFAULT now(),
  epoch         bigint NOT NULL DEFAULT 1,
  last_seq      bigint NOT NULL DEFAULT 0,
  status        text NOT NULL DEFAULT 'waiting',
  is_public     boolean NOT NULL DEFAULT true,
  host_name     text NOT NULL DEFAULT '',
  player_count  integer NOT NULL DEFAULT 0,
  snapshot      jsonb,
  snapshot_seq  bigint NOT NULL DEFAULT 0,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lobbies_owner_idx ON lobbies (owner_node);
CREATE INDEX lobbies_owner_since_idx ON lobbies (owner_since);

-- The append-only event log: one row per acknowledged action, gapless seq per lobby.
-- No foreign key to lobbies: the group commit inserts events only for lobby
-- rows its own fencing UPDATE just matched, and a per-row FK check (a lock on
-- the lobby row per event) would sit on the path every ack waits for.
CREATE TABLE lobby_events (
  code       text NOT NULL,
  seq        bigint NOT NULL,
  -- The ownership epoch the event was committed under (audit: who wrote it).
  epoch      bigint NOT NULL,
  player_id  text,
  action_id  text,
  event      jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (code, seq)
);
-- An action re-sent after a reconnect must never be stored twice.
CREATE UNIQUE INDEX lobby_events_action_idx ON lobby_events (code, player_id, action_id)
  WHERE action_id IS NOT NULL;

CREATE TABLE players (
  id         text PRIMARY KEY,
  lobby_code text NOT NULL REFERENCES lobbies (code),
  name       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX players_lobby_idx ON players (lobby_code);

-- Who is connected where. One row per connected player (a newer socket of the
-- same player replaces the older one).
CREATE TABLE presence (
  player_id    text PRIMARY KEY,
  lobby_code   text NOT NULL,
  node_id      text NOT NULL,
  connected_at timestamptz NOT NULL DEFAULT now(),
  last_seen    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX presence_node_idx ON presence (node_id);
CREATE INDEX presence_lobby_idx ON presence (lobby_code);

-- Event-bus payloads too large for NOTIFY (8000-byte limit); the
-- notification carries the row id. Old rows are deleted by a cleanup job.
CREATE TABLE bus_payloads (
  id         bigserial PRIMARY KEY,
  channel    text NOT NULL,
  payload    text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Ownership changes and node deaths, for the ops history and drill timelines.
CREATE TABLE cluster_history (
  id      bigserial PRIMARY KEY,
  at      timestamptz NOT NULL DEFAULT now(),
  kind    text NOT NULL,
  node_id text,
  code    text,
  detail  jsonb NOT NULL DEFAULT '{}'::jsonb
);
