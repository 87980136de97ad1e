/**
 * The Ringside client SDK, for browsers and Node. It imports nothing from
 * Node: HTTP goes through the global fetch, and Node 20 callers pass a
 * WebSocket class (the `ws` package's) since that runtime has no global one.
 */
import { LobbyConnection } from "./connection.js";
import type { LobbyConnectionOptions } from "./connection-types.js";
import { RingsideApi } from "./http-api.js";
import type { SocketConstructor } from "./socket.js";

export { Backoff, type BackoffOptions } from "./backoff.js";
export { LobbyConnection } from "./connection.js";
export type {
  ActionAck,
  AnnouncementMessage,
  ConnectionState,
  ConnectionStatus,
  DirectMessage,
  LobbyConnectionEvents,
  LobbyConnectionOptions,
  OutgoingAction,
  SequencedEvent,
  ServerErrorMessage,
  WelcomeMessage,
} from "./connection-types.js";
export { type Listener, TypedEmitter } from "./emitter.js";
export { ActionRejectedError, ActionTimeoutError, ConnectionClosedError } from "./errors.js";
export {
  type ClusterStats,
  type CreatedLobby,
  type JoinedLobby,
  type RetryOptions,
  RingsideApi,
  type RingsideApiOptions,
  RingsideHttpError,
} from "./http-api.js";
export { lobbySocketUrl, type SocketConstructor, type SocketLike } from "./socket.js";

export type RingsideClientOptions = { WebSocket?: SocketConstructor; fetch?: typeof fetch };
export type ConnectOptions = Omit<LobbyConnectionOptions, "baseUrl" | "code" | "token">;

/** One balancer URL: its HTTP API, and lobby connections that share the same WebSocket class. */
export class RingsideClient {
  readonly api: RingsideApi;

  constructor(
    readonly baseUrl: string,
    private readonly opts: RingsideClientOptions = {},
  ) {
    this.api = new RingsideApi(baseUrl, { fetch: opts.fetch });
  }

  /** Resolves once the lobby's welcome has arrived. */
  async connect(code: string, token: string, opts: ConnectOptions = {}): Promise<LobbyConnection> {
    const WebSocket = opts.WebSocket ?? this.opts.WebSocket;
    const connection = new LobbyConnection({ ...opts, WebSocket, baseUrl: this.baseUrl, code, token });
    await connection.connect();
    return connection;
  }
}
