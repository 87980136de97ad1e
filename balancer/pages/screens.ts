import type { LobbyView } from "../../shared/wire.js";
import { battleshipScreen } from "./battleship/screen.js";
import { connectFourScreen } from "./connect-four/screen.js";
import { el } from "./dom.js";
import { defineScreen, type ScreenModule, type TurnView } from "./game-screen.js";

/** Every game the page can draw, by game id. A game the cluster runs without a screen here gets the plain one. */
const SCREENS = new Map<string, ScreenModule>([connectFourScreen, battleshipScreen].map((s) => [s.gameId, s]));

export function screenFor(gameId: string): ScreenModule {
  return SCREENS.get(gameId) ?? plainScreen(gameId);
}

/**
 * A game this page has no screen for (a studio's own, say): its status line
 * and this player's view as JSON, with chat and everything else still
 * working. Without the game's rules the SDK does not fold its events, so the
 * view is the welcome's, refreshed at the next welcome.
 */
function plainScreen(gameId: string): ScreenModule {
  return defineScreen<unknown, unknown>({
    gameId,
    title: gameId,
    rules: { apply: (state) => state },
    blurb: "This page has no board for this game: it shows the game's state as the server sends it.",
    seatLabel: (seat) => `Seat ${seat}`,
    errorText: {},
    mount(root) {
      const pre = el("pre", { class: "plain-game" });
      root.replaceChildren(pre);
      return {
        render(lobby: LobbyView<unknown>) {
          pre.textContent = JSON.stringify(lobby.game, null, 2);
          return { turn: plainTurn(lobby), footer: gameId };
        },
        dispose() {},
      };
    },
  });
}

function plainTurn(lobby: LobbyView<unknown>): TurnView {
  const state = lobby.status === "waiting" ? "waiting" : lobby.status === "playing" ? "theirs" : "over";
  return { state, title: lobby.statusText || lobby.status, detail: "", seat: null };
}
