import type { LobbyView } from "../../shared/wire.js";
import { el } from "./dom.js";

/**
 * The players list: seat (in the game's words), name, who is online (from presence, via
 * GET /api/lobbies/:code) and a button to write to someone directly.
 */
export class PlayersView {
  constructor(
    private readonly root: HTMLElement,
    /** What the game calls a seat ("Red", "Seat 1"). */
    private readonly seatLabel: (seat: number) => string,
    private readonly onMessage: (playerId: string, name: string) => void,
  ) {}

  render(lobby: LobbyView, me: string | undefined, online: ReadonlySet<string>): void {
    const rows = lobby.players.map((player) => {
      const isMe = player.id === me;
      const isOnline = online.has(player.id);
      const seat = player.seat === null ? "Watching" : this.seatLabel(player.seat);
      const row = el(
        "li",
        { class: "player", "data-player": player.id, "data-online": String(isOnline) },
        el("span", { class: `dot ${isOnline ? "online" : "offline"}`, title: isOnline ? "online" : "offline" }),
        el("span", { class: `swatch ${player.seat ? `p${player.seat}` : "spectator"}` }),
        el("span", { class: "name" }, player.name, isMe ? el("span", { class: "you" }, " (you)") : ""),
        el("span", { class: "seat" }, seat),
      );
      if (!isMe) row.append(this.messageButton(player.id, player.name));
      return row;
    });
    this.root.replaceChildren(...rows);
  }

  private messageButton(playerId: string, name: string): HTMLButtonElement {
    const button = el("button", { class: "ghost small", type: "button", title: `Message ${name}` }, "Message");
    button.addEventListener("click", () => this.onMessage(playerId, name));
    return button;
  }
}
