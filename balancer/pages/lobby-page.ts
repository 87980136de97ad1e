import {
  ActionRejectedError,
  ActionTimeoutError,
  LobbyConnection,
  type OutgoingAction,
  type RingsideApi,
} from "../../shared/client/index.js";
import { ChatView } from "./chat-view.js";
import { renderConnection } from "./connection-view.js";
import { DirectMessagesView } from "./dm-view.js";
import { byId, errorText } from "./dom.js";
import type { GameScreen, ScreenModule } from "./game-screen.js";
import { showBanner, showToast } from "./notices.js";
import { PlayersView } from "./players-view.js";
import { type PlayerSession, saveSession } from "./session-store.js";

/** Who is online comes from presence, which the server refreshes every couple of seconds. */
const ONLINE_REFRESH_MS = 4000;

/** Refusals every game may give, in the player's words; a game's screen adds its own. */
const ERROR_TEXT: Record<string, string> = {
  not_your_turn: "Not your turn yet.",
  game_over: "This round is over: ask for a rematch.",
  not_a_player: "Spectators can watch and chat, but not play.",
  not_ready: "Wait for a second player to join.",
  rate_limited: "Slow down a little.",
  unknown_player: "No player with that id is online.",
};

/**
 * The lobby for one player: the SDK connection (which reconnects and resumes
 * by itself, and folds every event into `connection.lobby` with the game's
 * rules), the game's own screen, and the views around it drawn from the same
 * lobby copy: the turn line, players, chat and direct messages.
 */
export class LobbyPage {
  private readonly connection: LobbyConnection<unknown, unknown, { type: string; [field: string]: unknown }>;
  private online = new Set<string>();
  private readonly screen: GameScreen<unknown>;
  private readonly errors: Record<string, string>;
  private readonly players: PlayersView;
  private readonly chat = new ChatView(byId("chat-log"), byId("chat-form"), byId("chat-input"), (text) =>
    this.act({ type: "chat", text }),
  );
  private readonly dms = new DirectMessagesView(
    byId("dm-log"),
    byId("dm-form"),
    byId("dm-to"),
    byId("dm-text"),
    (to, text) => this.act({ type: "dm", to, text }),
  );
  private readonly pill = byId("conn");

  constructor(
    private readonly session: PlayerSession,
    private readonly api: RingsideApi,
    game: ScreenModule,
  ) {
    this.connection = new LobbyConnection({
      baseUrl: location.origin,
      code: session.code,
      token: session.token,
      since: session.seq,
      game: game.rules,
    });
    this.errors = { ...ERROR_TEXT, ...game.errorText };
    this.screen = game.mount(byId("screen"), (action) => this.act(action));
    this.players = new PlayersView(byId("players"), game.seatLabel, (id, name) => this.dms.writeTo(id, name));
    this.listen();
    byId("rematch-btn").addEventListener("click", () => void this.act({ type: "rematch" }));
    setInterval(() => {
      if (!document.hidden) void this.refresh();
    }, ONLINE_REFRESH_MS);
  }

  async start(): Promise<void> {
    renderConnection(this.pill, "connecting");
    try {
      await this.connection.connect();
    } catch (error) {
      showToast(`Cannot connect to lobby ${this.session.code}: ${errorText(error)}`);
    }
  }

  close(): void {
    this.connection.close();
    this.screen.dispose();
  }

  private listen(): void {
    const c = this.connection;
    c.on("status", (status, reason) => {
      renderConnection(this.pill, status, c.node, reason);
      // For good (e.g. this seat was opened in another tab): say why, since nothing reconnects.
      if (status === "closed" && reason) showToast(`Disconnected: ${reason}`);
    });
    c.on("retry", ({ attempt }) => renderConnection(this.pill, "reconnecting", c.node, `attempt ${attempt}`));
    c.on("welcome", (welcome) => {
      renderConnection(this.pill, "open", welcome.node);
      void this.refresh();
    });
    // The SDK folds every event into connection.lobby with the game's own rules.
    c.on("state", (_state, lobby) => {
      saveSession({ ...this.session, seq: lobby.seq });
      this.render();
    });
    c.on("event", ({ event }) => {
      if (event.kind === "player_joined") void this.refresh();
    });
    // Events were missed (a replay too long to send): the HTTP snapshot covers them.
    c.on("gap", () => void this.refresh());
    c.on("announcement", (a) => showBanner(a.text, a.at));
    c.on("dm", (dm) => {
      this.dms.received(dm);
      showToast(`Message from ${dm.from.name}`, "info");
    });
    c.on("error", (e) => showToast(this.errors[e.code] ?? e.message));
  }

  /** Sends an action; a refusal is shown briefly and resolves false. */
  private async act(action: OutgoingAction<{ type: string; [field: string]: unknown }>): Promise<boolean> {
    try {
      await this.connection.send(action);
      return true;
    } catch (error) {
      showToast(this.actionError(error));
      return false;
    }
  }

  /** GET /api/lobbies/:code: who is online (the lobby itself comes from the connection). */
  private async refresh(): Promise<void> {
    try {
      const resource = await this.api.getLobby(this.session.code);
      this.online = new Set(resource.players.filter((p) => p.online).map((p) => p.id));
      this.render();
    } catch {
      // The lobby is moving between nodes; the next refresh or event catches up.
    }
  }

  private render(): void {
    const lobby = this.connection.lobby;
    if (!lobby) return;
    const me = this.session.playerId;
    const seat = lobby.players.find((p) => p.id === me)?.seat ?? null;
    const { turn, footer } = this.screen.render(lobby, { playerId: me, seat });
    const turnBox = byId("turn");
    turnBox.dataset.state = turn.state;
    turnBox.dataset.seat = turn.seat === null ? "" : String(turn.seat);
    byId("turn-title").textContent = turn.title;
    byId("turn-detail").textContent = turn.detail;
    byId("round").textContent = footer;
    const online = new Set(this.online);
    if (this.connection.status === "open") online.add(me);
    this.players.render(lobby, me, online);
    this.chat.render(lobby.chat, lobby.players, me);
    byId("rematch-btn").hidden = !(lobby.status === "finished" && seat !== null);
  }

  private actionError(error: unknown): string {
    if (error instanceof ActionRejectedError) return this.errors[error.code] ?? error.message;
    if (error instanceof ActionTimeoutError) return "No answer from the server yet; it may still go through.";
    return errorText(error);
  }
}
