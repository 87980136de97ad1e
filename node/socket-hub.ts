import { type IncomingMessage, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { readEventsAfter } from "../shared/db/lobbies.js";
import type { Pool } from "../shared/db/pool.js";
import { KeyedLimiter } from "../shared/keyed-limiter.js";
import { parseLobbyCode } from "../shared/lobby-code.js";
import type { Logger } from "../shared/log.js";
import {
  type ClientMessage,
  CloseCode,
  type DirectMessageRequest,
  MAX_FRAME_BYTES,
  parseClientMessage,
  type SignalRequest,
  signalTooLarge,
} from "../shared/protocol.js";
import { verifyToken } from "../shared/token.js";
import { ApiError, databaseUnavailable } from "./errors.js";
import type { LiveLobby } from "./live-lobby.js";
import { DEDUPE_WINDOW } from "./lobby/lobby-state.js";
import type { StoredEntry } from "./lobby/log-entry.js";
import type { LobbyRegistry, SubmitResult } from "./lobby-registry.js";
import { PlayerSocket, RateLimiter } from "./player-socket.js";
import { SocketHeartbeat } from "./socket-heartbeat.js";

export type HubOptions = {
  nodeId: string;
  pool: Pool;
  registry: LobbyRegistry;
  tokenSecret: string;
  log: Logger;
  /** Actions (chat, game actions, DMs) per connection; re-sent actions the node knows cost nothing (up to a bound). */
  rate: { perSecond: number; burst: number };
  /** Signals per connection, on a bucket of their own. */
  signalRate: { perSecond: number; burst: number };
  heartbeatMs?: number;
  onOpen?: (socket: PlayerSocket, lobby: LiveLobby) => void;
  onClose?: (socket: PlayerSocket, replaced: boolean) => void;
  onDirectMessage?: (socket: PlayerSocket, message: DirectMessageRequest) => void;
  /** What each action came to (a metric); a queued action's outcome is counted when it commits. */
  onAction?: (result: SubmitResult | "rate_limited") => void;
};

/** Malformed frames in a row before the socket is closed as abusive. */
const MAX_MALFORMED_IN_A_ROW = 20;
/** Rate-limit abuse score (see RateLimiter.abuse) at which the socket is closed. */
const MAX_ABUSE = 200;
/** Re-sends of known actions that cost no rate-limit token, per connection (refilled at the action rate). */
const FREE_RESENDS = DEDUPE_WINDOW;
/** Replays longer than this send the snapshot only (the client has the welcome's full state). */
const MAX_REPLAY = 10_000;
/**
 * Replays read from Postgres (a resume from before the lobby's recent entries
 * in memory) per player: each may read up to MAX_REPLAY rows, and a client
 * reconnecting in a loop would ask for one every time. Past the budget a
 * resume gets the welcome's full state without the missed entries, as one
 * from further back than MAX_REPLAY does. A failover or a long absence costs one.
 */
const LOG_REPLAYS = { burst: 4, perSecond: 1 / 15 };

/** The WebSocket side of a node: upgrade checks, welcome and replay, actions in, acks and events out. */
export class SocketHub {
  readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  private readonly sockets = new Set<PlayerSocket>();
  /** The newest socket of each player connected here (direct messages go to it). */
  private readonly byPlayer = new Map<string, PlayerSocket>();
  private readonly heartbeat: SocketHeartbeat<PlayerSocket>;
  private readonly logReplays = new KeyedLimiter(LOG_REPLAYS, 50_000);

  constructor(private readonly opts: HubOptions) {
    this.wss.on("error", (err) => opts.log.warn({ err }, "websocket server error"));
    // A malformed handshake (Sec-WebSocket-Key, -Version, -Protocol): ws would answer text/html; ours is JSON.
    this.wss.on("wsClientError", (err: Error, socket: Duplex) => {
      const version: Record<string, string> = /Version/.test(err.message) ? { "Sec-WebSocket-Version": "13, 8" } : {};
      refuseUpgrade(socket, new ApiError(400, "bad_upgrade", err.message), opts.nodeId, version);
    });
    this.heartbeat = new SocketHeartbeat(this.sockets, opts.heartbeatMs ?? 15_000);
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  connected(): PlayerSocket[] {
    return [...this.sockets];
  }

  socketOf(playerId: string): PlayerSocket | undefined {
    return this.byPlayer.get(playerId);
  }

  /** Handles an HTTP upgrade on /ws/:code; refusals are plain HTTP answers with a JSON body. */
  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => socket.destroy());
    try {
      const url = new URL(req.url ?? "/", "http://node");
      const match = /^\/ws\/([^/]+)$/.exec(url.pathname);
      const code = parseLobbyCode(match?.[1]);
      if (!code) throw new ApiError(400, "bad_code", "not a lobby code");
      const claims = verifyToken(this.opts.tokenSecret, url.searchParams.get("token"));
      if (!claims || claims.code !== code)
        throw new ApiError(401, "bad_token", "token missing, invalid or for another lobby");
      const since = parseSince(url.searchParams.get("since"));
      const lobby = await this.opts.registry.load(code);
      if (!lobby.committed.hasPlayer(claims.playerId))
        throw new ApiError(403, "not_a_player", "not a player of this lobby");
      if (socket.destroyed) return;
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        void this.attach(ws, lobby, claims.playerId, since);
      });
    } catch (err) {
      // A database outage is a 503 to retry, not a bug: only the rest is logged as an error.
      const known = err instanceof ApiError ? err : databaseUnavailable(err);
      refuseUpgrade(socket, known ?? new ApiError(500, "internal", "internal error"), this.opts.nodeId);
      if (!known) this.opts.log.error({ err }, "upgrade failed");
    }
  }

  private async attach(ws: WebSocket, lobby: LiveLobby, playerId: string, since: number | null): Promise<void> {
    const socket = new PlayerSocket(ws, playerId, lobby.code);
    if (lobby.closed) {
      socket.close(CloseCode.Restart, "lobby moved; reconnect");
      return;
    }
    const previous = lobby.connections.get(playerId);
    lobby.connections.set(playerId, socket);
    previous?.close(CloseCode.Replaced, "replaced by a newer connection");
    this.sockets.add(socket);
    this.byPlayer.set(playerId, socket);
    this.listen(socket, lobby);
    lobby.lastActivity = performance.now();
    this.opts.onOpen?.(socket, lobby);
    socket.holdLive();
    const seq = lobby.seq;
    const view = lobby.committed.view(lobby.committed.viewerOf(playerId));
    const { perSecond, burst } = this.opts.rate;
    socket.sendNow({
      type: "welcome",
      node: this.opts.nodeId,
      seq,
      player: playerId,
      lobby: view,
      // The SDK paces its sends by these, so re-sending a backlog after a reconnect is never refused.
      limits: { actionsPerSecond: perSecond, actionBurst: burst },
    });
    if (since !== null && since < seq) await this.replay(socket, lobby, since, seq);
    socket.releaseLive();
    // A closed lobby shows its last state once; 4004 tells the SDK not to come back.
    if (lobby.committed.closed) socket.close(CloseCode.LobbyClosed, "the lobby is closed");
  }

  private async replay(socket: PlayerSocket, lobby: LiveLobby, since: number, upTo: number): Promise<void> {
    if (upTo - since > MAX_REPLAY) return;
    let entries = lobby.recentAfter(since)?.filter((e) => e.seq <= upTo);
    if (!entries) {
      if (this.logReplays.take(`${lobby.code}/${socket.playerId}`)) return;
      try {
        const logged = await readEventsAfter(this.opts.pool, lobby.code, since, upTo - since);
        entries = logged.map((e) => ({ seq: e.seq, entry: e.event as StoredEntry }));
      } catch (err) {
        this.opts.log.warn({ err, code: lobby.code }, "replay read failed");
        socket.close(CloseCode.Restart, "replay failed; reconnect");
        return;
      }
    }
    // Through the same projection as live events: a replay shows nothing the player may not see.
    for (const e of entries) socket.sendNowSerialized(lobby.frameFor(e.seq, e.entry, socket.playerId));
  }

  private listen(socket: PlayerSocket, lobby: LiveLobby): void {
    const { ws } = socket;
    const limiter = new RateLimiter(this.opts.rate.perSecond, this.opts.rate.burst);
    const signals = new RateLimiter(this.opts.signalRate.perSecond, this.opts.signalRate.burst);
    // Free, but not without end: a flood of one known id would never be refused or closed.
    const resends = new RateLimiter(this.opts.rate.perSecond, FREE_RESENDS);
    let malformed = 0;
    ws.on("pong", () => this.heartbeat.answered(socket));
    ws.on("error", () => ws.terminate());
    ws.on("close", () => this.detach(socket, lobby));
    ws.on("message", (data, isBinary) => {
      if (isBinary) return socket.close(CloseCode.Unsupported, "binary frames are not supported");
      // Parsed before the rate check so that a refusal names the action it refuses.
      const parsed = parseClientMessage(data.toString());
      const bucket = parsed.ok && parsed.message.type === "signal" ? signals : limiter;
      const free = this.isResend(lobby, socket, parsed) && resends.take();
      if (!free && !bucket.take()) {
        if (bucket.abuse > MAX_ABUSE) return socket.close(CloseCode.Policy, "rate limit exceeded");
        const id = parsed.ok ? parsed.message.id : parsed.id;
        if (bucket === limiter) this.opts.onAction?.("rate_limited");
        return socket.send({ type: "error", id, code: "rate_limited", message: "too many messages; slow down" });
      }
      if (!parsed.ok) {
        if (++malformed > MAX_MALFORMED_IN_A_ROW)
          return socket.close(CloseCode.InvalidPayload, "too many malformed messages");
        return socket.send({ type: "error", id: parsed.id, code: "bad_message", message: parsed.message });
      }
      malformed = 0;
      this.dispatch(socket, lobby, parsed.message);
    });
  }

  /** An action the lobby already logged or queued (re-sent after a reconnect) costs no rate-limit token. */
  private isResend(lobby: LiveLobby, socket: PlayerSocket, parsed: ReturnType<typeof parseClientMessage>): boolean {
    if (!parsed.ok || parsed.message.type === "signal" || parsed.message.type === "dm") return false;
    return this.opts.registry.knows(lobby, socket.playerId, parsed.message.id);
  }

  private dispatch(socket: PlayerSocket, lobby: LiveLobby, message: ClientMessage): void {
    if (message.type === "dm") {
      if (this.opts.onDirectMessage) this.opts.onDirectMessage(socket, message);
      else socket.send({ type: "error", id: message.id, code: "bad_message", message: "direct messages are off" });
      return;
    }
    if (message.type === "signal") {
      this.signal(socket, lobby, message);
      return;
    }
    void this.opts.registry.submit(lobby, socket.playerId, message).then((result) => {
      this.opts.onAction?.(result);
      if (result.ok === true) socket.send({ type: "ack", id: message.id, seq: result.seq });
      else if (result.ok === false)
        socket.send({ type: "error", id: message.id, code: result.code, message: result.message });
    });
  }

  /** Ephemeral: to the lobby (or one player of it) at once; never logged, acked or replayed. */
  private signal(socket: PlayerSocket, lobby: LiveLobby, message: SignalRequest): void {
    if (signalTooLarge(message.data)) {
      socket.send({ type: "error", id: message.id, code: "bad_message", message: "signal data is too large" });
      return;
    }
    const frame = { type: "signal" as const, from: socket.playerId, data: message.data };
    if (message.to === undefined) lobby.broadcast(frame, socket.playerId);
    else lobby.connections.get(message.to)?.send(frame);
  }

  private detach(socket: PlayerSocket, lobby: LiveLobby): void {
    if (!this.sockets.delete(socket)) return;
    if (this.byPlayer.get(socket.playerId) === socket) this.byPlayer.delete(socket.playerId);
    const replaced = lobby.connections.get(socket.playerId) !== socket;
    if (!replaced) lobby.connections.delete(socket.playerId);
    this.opts.onClose?.(socket, replaced);
  }

  close(): void {
    this.heartbeat.stop();
    for (const socket of this.sockets) socket.ws.terminate();
    this.wss.close();
  }
}

function parseSince(raw: string | null): number | null {
  if (raw === null || raw === "") return null;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new ApiError(400, "bad_since", "since must be a non-negative integer");
  return n;
}

/** Answers a refused upgrade with an ordinary HTTP response, then closes the socket. */
function refuseUpgrade(socket: Duplex, error: ApiError, nodeId: string, headers: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(error.toJSON());
  const retry = error.status === 503 ? "Retry-After: 1\r\n" : "";
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? "Error"}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `x-ringside-node: ${nodeId}\r\n${retry}${extra}Connection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}
