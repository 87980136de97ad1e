import { z } from "zod";
import { type ActionContext, defineGame, type GamePlayer, type Refusal, refuse } from "../../game/define-game.js";
import { BOARD_COLUMNS, dropDisc, isFull, landingRow, type Seat, winLineThrough } from "./board.js";
import {
  applyConnectFour,
  type ConnectFourAction,
  type ConnectFourEvent,
  type ConnectFourState,
  connectFourStatus,
  initialState,
  startingSeat,
} from "./rules.js";

/**
 * Connect Four as a Ringside game: two seats, everyone else watches; a
 * player who leaves mid-round forfeits it; either seated player may ask for
 * a rematch once a round is over, and the other seat opens the next one.
 */
export const connectFour = defineGame({
  id: "connect-four",
  version: 1,
  title: "Connect Four",
  minPlayers: 2,
  maxPlayers: 2,
  // A seat is free mid-game only after its player left: a newcomer may take it.
  joinInProgress: true,
  actions: {
    move: z.object({
      column: z
        .number()
        .int()
        .min(0)
        .max(BOARD_COLUMNS - 1),
    }),
    rematch: z.object({}),
  },
  setup: () => initialState(),
  decide(state, action, ctx) {
    return action.type === "move" ? decideMove(state, action.column, ctx) : decideRematch(state, ctx);
  },
  apply: applyConnectFour,
  status: connectFourStatus,
  onJoin(_state, player): ConnectFourEvent[] {
    const seat = player.seat;
    return seat === 1 || seat === 2 ? [{ type: "seated", seat, playerId: player.id }] : [];
  },
  onLeave(state, player): ConnectFourEvent[] {
    const seat = seatOf(state, player);
    if (seat === null) return [];
    const events: ConnectFourEvent[] = [];
    const opponent = state.seats[seat === 1 ? 1 : 0];
    if (state.phase === "playing" && opponent) events.push({ type: "won", playerId: opponent, line: [] });
    events.push({ type: "unseated", seat });
    return events;
  },
  bot: {
    actions(state, viewer): ConnectFourAction[] {
      const seat = viewer.seat;
      if (seat !== 1 && seat !== 2) return [];
      if (state.phase === "finished") return [{ type: "rematch" }];
      if (state.phase !== "playing" || state.turn !== seat) return [];
      const columns = Array.from({ length: BOARD_COLUMNS }, (_, column) => column);
      const open = columns.filter((column) => landingRow(state.board, column).ok);
      return open.map((column) => ({ type: "move", column }));
    },
  },
});

function seatOf(state: ConnectFourState, player: GamePlayer): Seat | null {
  if (state.seats[0] === player.id) return 1;
  if (state.seats[1] === player.id) return 2;
  return null;
}

function decideMove(state: ConnectFourState, column: number, ctx: ActionContext): ConnectFourEvent[] | Refusal {
  const seat = seatOf(state, ctx.player);
  if (seat === null) return refuse("not_a_player", "only seated players can move");
  if (state.phase === "waiting") return refuse("not_ready", "waiting for a second player");
  if (state.phase === "finished") return refuse("game_over", "this round is over");
  if (state.turn !== seat) return refuse("not_your_turn", "it is the other player's turn");
  const drop = dropDisc(state.board, column, seat);
  if (!drop.ok) {
    return refuse("invalid_move", `column ${column} ${drop.error === "column_full" ? "is full" : "is off the board"}`);
  }
  const events: ConnectFourEvent[] = [{ type: "dropped", seat, column, row: drop.row }];
  const line = winLineThrough(drop.board, drop.row, column);
  if (line !== null) events.push({ type: "won", playerId: ctx.player.id, line });
  else if (isFull(drop.board)) events.push({ type: "drawn" });
  return events;
}

function decideRematch(state: ConnectFourState, ctx: ActionContext): ConnectFourEvent | Refusal {
  if (seatOf(state, ctx.player) === null) return refuse("not_a_player", "only seated players can ask for a rematch");
  if (state.phase !== "finished") return refuse("not_ready", "the round is not over yet");
  if (state.seats[0] === null || state.seats[1] === null) return refuse("not_ready", "waiting for a second player");
  const round = state.round + 1;
  return { type: "rematch", round, starts: startingSeat(round) };
}
