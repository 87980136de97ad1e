import type { GameRules } from "../game/game-rules.js";
import type { LobbyEntry, LobbyView, PlayerView } from "../wire.js";

/**
 * The client's copy of a lobby, kept current the way the node keeps its own:
 * each log entry is folded in, its game events with the game's own `apply`
 * (and the game's `status` when it has one). The node's view after an entry
 * and this fold of the projected entry are the same (the conformance suite
 * checks it for every bundled game).
 */

/** Chat lines a lobby view keeps, as the node does. */
export const VIEW_CHAT_LINES = 50;

/**
 * The view after the entry at `seq` when it follows on from `lobby` (a
 * welcome's lobby may already hold replayed entries: it is as of the
 * welcome's seq), or undefined: the view stays as it is. Also undefined when
 * the game's rules refuse what the server sent (another game version, a
 * broken server): later entries then no longer follow on, until the next welcome.
 */
export function followOn<S, E>(
  lobby: LobbyView<S> | undefined,
  seq: number,
  entry: LobbyEntry<E>,
  rules?: ClientRules<S, E>,
): LobbyView<S> | undefined {
  if (!lobby || seq !== lobby.seq + 1) return undefined;
  try {
    return foldEntry(lobby, seq, entry, rules);
  } catch {
    return undefined;
  }
}

/** The lobby after one entry at `seq`; the input is not modified. Without `rules`, game events are not folded. */
export function foldEntry<S, E>(
  lobby: LobbyView<S>,
  seq: number,
  entry: LobbyEntry<E>,
  rules?: ClientRules<S, E>,
): LobbyView<S> {
  let next: LobbyView<S> = { ...lobby, seq };
  switch (entry.kind) {
    case "lobby_created":
    case "player_joined":
      next = withPlayer(next, { id: entry.playerId, name: entry.name, seat: entry.seat });
      break;
    case "player_left":
      next = { ...next, players: next.players.filter((p) => p.id !== entry.playerId) };
      break;
    case "chat": {
      const line = { seq, playerId: entry.playerId, text: entry.text };
      next = { ...next, chat: [...next.chat, line].slice(-VIEW_CHAT_LINES) };
      break;
    }
    case "closed":
      return { ...next, status: "closed", statusText: entry.reason };
    default:
      break;
  }
  if (!("events" in entry) || !rules || next.status === "closed") return next;
  let game = next.game;
  for (const event of entry.events) game = rules.apply(game, event);
  next = { ...next, game };
  if (!rules.status) return next;
  const { phase, text } = rules.status(game);
  return { ...next, status: phase, statusText: text };
}

/**
 * What the SDK needs of a game: `apply` to fold, `status` to keep the status line current.
 * Method syntax, as in GameRules, so a game's typed rules fit where any game's are taken.
 */
export type ClientRules<S, E> = Pick<GameRules<S, E>, "apply"> & {
  status?(state: S): { phase: "waiting" | "playing" | "finished"; text: string };
};

function withPlayer<S>(lobby: LobbyView<S>, player: PlayerView): LobbyView<S> {
  const known = lobby.players.some((p) => p.id === player.id);
  const players = known ? lobby.players.map((p) => (p.id === player.id ? player : p)) : [...lobby.players, player];
  return { ...lobby, players };
}
