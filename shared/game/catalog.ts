import { z } from "zod";
import type { GameInfo } from "../wire.js";
import { type AnyGame, GameDefinitionError } from "./define-game.js";

/** What `GET /api/games` lists for each game. */
export type GameSummary = GameInfo;

/**
 * The games one node runs, by id. The first one is the default (a create
 * without `"game"` gets it, so clients from before games keep working). A node
 * serves a lobby only when it has the lobby's game at the lobby's version or
 * newer: version N+1 replays logs of version N, never the other way round.
 */
export class GameCatalog {
  private readonly games = new Map<string, AnyGame>();

  constructor(games: readonly AnyGame[]) {
    if (games.length === 0) throw new GameDefinitionError("a node needs at least one game");
    for (const game of games) {
      if (this.games.has(game.id)) throw new GameDefinitionError(`game "${game.id}" is listed twice`);
      this.games.set(game.id, game);
    }
  }

  get default(): AnyGame {
    return this.games.values().next().value as AnyGame;
  }

  get(id: string): AnyGame | undefined {
    return this.games.get(id);
  }

  /** The game for a lobby recorded with (id, version), if this node can replay it. */
  forLobby(id: string, version: number): AnyGame | undefined {
    const game = this.games.get(id);
    return game && game.version >= version ? game : undefined;
  }

  list(): GameSummary[] {
    return [...this.games.values()].map((g) => ({
      id: g.id,
      version: g.version,
      title: g.title,
      minPlayers: g.minPlayers,
      maxPlayers: g.maxPlayers,
      options: optionsSchema(g),
    }));
  }

  /** (id, version) pairs for SQL: a claim matches only lobbies whose game this node has. */
  versions(): { ids: string[]; versions: number[] } {
    const all = [...this.games.values()];
    return { ids: all.map((g) => g.id), versions: all.map((g) => g.version) };
  }
}

/** A game's create options as JSON Schema (what a form may offer); `{}` when zod cannot express it. */
function optionsSchema(game: AnyGame): Record<string, unknown> {
  try {
    return z.toJSONSchema(game.options, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  } catch {
    return {};
  }
}
