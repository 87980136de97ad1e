/**
 * The Ringside client SDK, for browsers and Node. It imports nothing from
 * Node and has no dependencies: HTTP goes through the global fetch, and Node
 * 20 callers pass a WebSocket class (the `ws` package's) since that runtime
 * has no global one. Pass a game's client rules (`game`) and
 * `connection.state` is the player's view, kept current by folding events.
 */
import type { GameRules } from "../game/game-rules.js";
import { LobbyConnection } from "./connection.js";
import type { LobbyConnectionOptions } from "./connection-types.js";
import { RingsideApi } from "./http-api.js";
import type { ClientRules } from "./lobby-fold.js";
import type { SocketConstructor } from "./socket.js";

export type { GameRules } from "../game/game-rules.js";
export type {
  AnnouncementFrame,
  ChatLine,
  ErrorCode,
  LobbyEntry,
  LobbyResource,
  LobbyStatus,
  LobbyView,
  PlayerView,
  ServerFrame,
  WelcomeFrame,
} from "../wire.js";
export { CloseCode } from "../wire.js";
export { Backoff, type BackoffOptions } from "./backoff.js";
export { LobbyConnection } from "./connection.js";
export type {
  ActionAck,
  AnnouncementMessage,
  ChatAction,
  ConnectionStatus,
  DirectMessage,
  DirectMessageAction,
  LeaveAction,
  LobbyConnectionEvents,
  LobbyConnectionOptions,
  OutgoingAction,
  SequencedEntry,
  ServerErrorMessage,
  SignalMessage,
  WelcomeMessage,
} from "./connection-types.js";
export { type Listener, TypedEmitter } from "./emitter.js";
export { ActionRejectedError, ActionTimeoutError, ConnectionClosedError } from "./errors.js";
export {
  type ClusterStats,
  type CreatedLobby,
  type CreateOptions,
  type GameInfo,
  type JoinedLobby,
  type RetryOptions,
  RingsideApi,
  type RingsideApiOptions,
  RingsideHttpError,
} from "./http-api.js";
export { type ClientRules, foldEntry, VIEW_CHAT_LINES } from "./lobby-fold.js";
export { lobbySocketUrl, type SocketConstructor, type SocketLike } from "./socket.js";

export type RingsideClientOptions = { WebSocket?: SocketConstructor; fetch?: typeof fetch };
export type ConnectOptions<S, E> = Omit<LobbyConnectionOptions<S, E>, "baseUrl" | "code" | "token">;

/** The state, event and action types a game's client rules carry. */
type StateOf<R> = R extends GameRules<infer S, infer _E, infer _A> ? S : unknown;
type EventOf<R> = R extends GameRules<infer _S, infer E, infer _A> ? E : unknown;
type ActionOf<R> =
  R extends GameRules<infer _S, infer _E, infer A> ? ([A] extends [never] ? { type: string } : A) : { type: string };

/** One balancer URL: its HTTP API, and lobby connections that share the same WebSocket class. */
export class RingsideClient {
  readonly api: RingsideApi;

  constructor(
    readonly baseUrl: string,
    private readonly opts: RingsideClientOptions = {},
  ) {
    this.api = new RingsideApi(baseUrl, { fetch: opts.fetch });
  }

  /**
   * Resolves once the lobby's welcome has arrived. With `game` (the game's
   * client rules), the connection is typed by the game and folds its events.
   */
  async connect<R extends ClientRules<unknown, unknown> | undefined = undefined>(
    code: string,
    token: string,
    opts: ConnectOptions<StateOf<R>, EventOf<R>> & { game?: R } = {},
  ): Promise<LobbyConnection<StateOf<R>, EventOf<R>, ActionOf<R>>> {
    const WebSocket = opts.WebSocket ?? this.opts.WebSocket;
    const connection = new LobbyConnection<StateOf<R>, EventOf<R>, ActionOf<R>>({
      ...(opts as ConnectOptions<StateOf<R>, EventOf<R>>),
      WebSocket,
      baseUrl: this.baseUrl,
      code,
      token,
    });
    await connection.connect();
    return connection;
  }
}
