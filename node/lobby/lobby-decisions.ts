import { type Events, isRefusal } from "../../shared/game/define-game.js";
import { unstorableReason } from "../../shared/storable-text.js";
import { MAX_NAME_CHARS } from "../../shared/wire.js";
import type { DecisionEnv, LobbyState, StoredPlayer } from "./lobby-state.js";
import type { StoredEntry } from "./log-entry.js";

/**
 * What a request would add to a lobby's log, or why not. Pure: the lobby is
 * only read. Game hooks are called here (setup, onJoin, decide, onLeave,
 * onTimer); a hook that throws becomes an `internal` refusal carrying the
 * error, so one game bug costs one action, never the lobby.
 */

export type EntryRequest =
  | { kind: "create"; playerId: string; name: string; joinKey?: string; options: unknown }
  | { kind: "join"; playerId: string; name: string; joinKey?: string; maxMembers: number }
  | { kind: "chat"; playerId: string; text: string }
  | { kind: "action"; playerId: string; action: { type: string } & Record<string, unknown> }
  | { kind: "leave"; playerId: string }
  | { kind: "timer"; name: string; at: number }
  | { kind: "close"; reason: string };

export type Decision = { ok: true; entry: StoredEntry } | { ok: false; code: string; message: string; cause?: unknown };

export type HookCaller = <T>(hook: string, call: () => T) => T;

export function decideEntry(lobby: LobbyState, request: EntryRequest, env: DecisionEnv): Decision {
  try {
    const decision = decideUnchecked(lobby, request, env);
    // A chat entry is the client's text, which parseClientMessage checked already: no second walk per message.
    if (!decision.ok || decision.entry.kind === "chat") return decision;
    return checkStorable(decision.entry);
  } catch (cause) {
    return { ok: false, code: "internal", message: "the game could not decide this action", cause };
  }
}

function decideUnchecked(lobby: LobbyState, request: EntryRequest, env: DecisionEnv): Decision {
  if (request.kind === "create") return decideCreate(lobby, request, env);
  if (lobby.closed) return reject("lobby_closed", "this lobby is closed");
  switch (request.kind) {
    case "join":
      return decideJoin(lobby, request, env);
    case "chat":
      if (!lobby.hasPlayer(request.playerId)) return reject("not_a_player", "you are not in this lobby");
      return accept({ kind: "chat", playerId: request.playerId, text: request.text });
    case "action":
      return decideAction(lobby, request.playerId, request.action, env);
    case "leave":
      return decideLeave(lobby, request.playerId, env);
    case "timer":
      return decideTimer(lobby, request.name, request.at, env);
    case "close":
      return accept({ kind: "closed", reason: request.reason });
  }
}

function decideCreate(
  lobby: LobbyState,
  request: Extract<EntryRequest, { kind: "create" }>,
  env: DecisionEnv,
): Decision {
  if (lobby.seq !== 0) return reject("bad_message", "the lobby exists already");
  const name = checkName(request.name);
  if (name === null) return reject("bad_message", `name must be 1 to ${MAX_NAME_CHARS} characters`);
  const { game } = lobby;
  const ctx = lobby.context(env);
  const setup = lobby.callHook("setup", () => game.setup(request.options, ctx));
  const host: StoredPlayer = { id: request.playerId, name, seat: 1 };
  const withHost = { ...ctx, players: [{ id: host.id, name, seat: 1 }] };
  const events = game.onJoin ? list(lobby.callHook("onJoin", () => game.onJoin?.(setup, host, withHost) ?? [])) : [];
  return accept({
    kind: "lobby_created",
    playerId: host.id,
    name,
    seat: 1,
    gameId: game.id,
    gameVersion: game.version,
    options: request.options,
    setup,
    ...(request.joinKey === undefined ? {} : { joinKey: request.joinKey }),
    events,
  });
}

function decideJoin(lobby: LobbyState, request: Extract<EntryRequest, { kind: "join" }>, env: DecisionEnv): Decision {
  const name = checkName(request.name);
  if (name === null) return reject("bad_message", `name must be 1 to ${MAX_NAME_CHARS} characters`);
  if (lobby.hasPlayer(request.playerId)) return reject("bad_message", "already in this lobby");
  // Written as a negation so a NaN limit counts as full rather than unlimited.
  if (!(lobby.playerCount < request.maxMembers)) return reject("lobby_full", "this lobby is full");
  const { game } = lobby;
  const seat = freeSeat(lobby);
  if (seat === null && !game.spectators) return reject("lobby_full", "every seat is taken");
  const player: StoredPlayer = { id: request.playerId, name, seat };
  const ctx = lobby.context(env);
  const state = lobby.gameStateForHooks;
  const withPlayer = { ...ctx, players: [...ctx.players, { id: player.id, name, seat }] };
  const events = game.onJoin
    ? list(lobby.callHook("onJoin", () => game.onJoin?.(state, player, withPlayer) ?? []))
    : [];
  return accept({
    kind: "player_joined",
    playerId: player.id,
    name,
    seat,
    ...(request.joinKey === undefined ? {} : { joinKey: request.joinKey }),
    events,
  });
}

/** The lowest free seat, while the game takes players (waiting, or joinInProgress). */
function freeSeat(lobby: LobbyState): number | null {
  const { game } = lobby;
  if (!game.joinInProgress && lobby.status().status !== "waiting") return null;
  const taken = new Set(lobby.allPlayers().map((p) => p.seat));
  for (let seat = 1; seat <= game.maxPlayers; seat++) if (!taken.has(seat)) return seat;
  return null;
}

function decideAction(
  lobby: LobbyState,
  playerId: string,
  action: { type: string } & Record<string, unknown>,
  env: DecisionEnv,
): Decision {
  const player = lobby.player(playerId);
  if (!player) return reject("not_a_player", "you are not in this lobby");
  const ctx = { ...lobby.context(env), player: { id: player.id, name: player.name, seat: player.seat } };
  const outcome = lobby.callHook("decide", () => lobby.game.decide(lobby.gameStateForHooks, action, ctx));
  if (isRefusal(outcome)) return reject(outcome.code, outcome.message);
  return accept({ kind: "game", playerId, action: action.type, events: list(outcome) });
}

function decideLeave(lobby: LobbyState, playerId: string, env: DecisionEnv): Decision {
  const player = lobby.player(playerId);
  if (!player) return reject("not_a_player", "you are not in this lobby");
  const { game } = lobby;
  const ctx = lobby.context(env);
  const state = lobby.gameStateForHooks;
  const events = game.onLeave ? list(lobby.callHook("onLeave", () => game.onLeave?.(state, player, ctx) ?? [])) : [];
  return accept({ kind: "player_left", playerId, events });
}

function decideTimer(lobby: LobbyState, name: string, at: number, env: DecisionEnv): Decision {
  const next = lobby.nextTimer();
  if (next === null || next.name !== name || next.at !== at) return reject("not_ready", "that timer is not pending");
  if (at > env.now) return reject("not_ready", "that timer is not due yet");
  const { game } = lobby;
  const state = lobby.gameStateForHooks;
  const events = list(lobby.callHook("onTimer", () => game.onTimer?.(state, name, lobby.context(env)) ?? []));
  return accept({ kind: "timer", name, at, events });
}

function checkName(raw: string): string | null {
  if (typeof raw !== "string") return null;
  const trimmed = raw.trim();
  return trimmed.length === 0 || trimmed.length > MAX_NAME_CHARS ? null : trimmed;
}

/** Postgres refuses some strings JSON allows, and JSON changes or drops some values: a game must not produce them. */
function checkStorable(entry: StoredEntry): Decision {
  const reason = unstorableReason(entry);
  if (reason === null) return accept(entry);
  return reject("internal", "the game produced a value that cannot be stored", new Error(`unstorable: ${reason}`));
}

function list<E>(events: Events<E> | undefined): E[] {
  if (events === undefined) return [];
  return Array.isArray(events) ? [...events] : [events as E];
}

function accept(entry: StoredEntry): Decision {
  return { ok: true, entry };
}

function reject(code: string, message: string, cause?: unknown): Decision {
  return cause === undefined ? { ok: false, code, message } : { ok: false, code, message, cause };
}
