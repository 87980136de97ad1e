import {
  type ConnectFourEvent,
  type ConnectFourState,
  connectFourRules,
} from "../../../shared/games/connect-four/rules.js";
import { el } from "../dom.js";
import { defineScreen } from "../game-screen.js";
import { BoardView } from "./board-view.js";
import { asSeat, describeTurn, SEAT_COLOURS } from "./turn.js";

/** Connect Four in the lobby page: the board of columns, and whose turn it is. */
export const connectFourScreen = defineScreen<ConnectFourState, ConnectFourEvent>({
  gameId: "connect-four",
  title: "Connect Four",
  rules: connectFourRules,
  blurb: "Take turns dropping discs; the first to line up four wins.",
  seatLabel: (seat) => SEAT_COLOURS[seat as 1 | 2] ?? `Seat ${seat}`,
  errorText: { invalid_move: "That column is full." },
  mount(root, send) {
    const host = el("div", { id: "board", class: "board" });
    root.replaceChildren(host);
    const board = new BoardView(host, (column) => void send({ type: "move", column }));
    return {
      render(lobby, me) {
        const turn = describeTurn(lobby, me.playerId);
        board.render(lobby.game, turn.state === "mine", asSeat(me.seat));
        return { turn, footer: `Round ${lobby.game.round} · move ${lobby.game.moves}` };
      },
      dispose() {},
    };
  },
});
