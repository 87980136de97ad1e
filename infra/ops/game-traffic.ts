import WebSocket from "ws";
import {
  ActionRejectedError,
  type LobbyConnection,
  type OutgoingAction,
  RingsideClient,
  type SocketConstructor,
} from "../../shared/client/index.js";
import type { AnyGame } from "../../shared/game/define-game.js";
import { bundledGames } from "../../shared/games/index.js";

/**
 * Realistic load for tests, drills and benchmarks: lobbies of two players
 * who chat and play a game through the SDK, each waiting for its ack before
 * the next action (sometimes two at once, to test ordering). Moves come from
 * the game's bot, reading the state the SDK folds from events, so any game
 * with a bot can be played (and the client fold is exercised all along).
 * Every ack, welcome and event is recorded, so a run can be checked against
 * the durable log afterwards (see verifyAcked).
 */

export type AckRecord = {
  code: string;
  playerId: string;
  actionId: string;
  seq: number;
  sentAt: number;
  ackedAt: number;
};

export type TrafficPlayer = {
  code: string;
  playerId: string;
  token: string;
  connection: LobbyConnection;
  acked: AckRecord[];
  rejected: number;
  failed: number;
  welcomes: { node: string; at: number }[];
  events: { seq: number; at: number }[];
  gaps: number;
};

export type TrafficLobby = { code: string; players: TrafficPlayer[] };

export type TrafficOptions = {
  baseUrl: string;
  lobbies: number;
  /** The game to play (default: connect-four); it must have a bot. */
  game?: AnyGame;
  /** Create options for the game. */
  gameOptions?: Record<string, unknown>;
  /** Pause between one player's actions, in ms (random between the two). */
  pauseMs?: [number, number];
  WebSocket?: SocketConstructor;
  /** How many lobbies are set up at once. */
  setupConcurrency?: number;
  /**
   * Exactly this many of the lobbies are served by this node, the rest by others (lobbies made beyond
   * that are left unplayed): two drills with the same placement lose the same number of lobbies.
   */
  placement?: { node: string; lobbies: number };
  onProgress?: (text: string) => void;
};

export class GameTraffic {
  readonly lobbies: TrafficLobby[] = [];
  readonly game: AnyGame;
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly client: RingsideClient;
  /** Lobbies set up or being set up, per "placed" (on opts.placement's node) and "other". */
  private readonly reserved = { placed: 0, other: 0 };

  constructor(private readonly opts: TrafficOptions) {
    this.client = new RingsideClient(opts.baseUrl, { WebSocket: opts.WebSocket ?? (WebSocket as SocketConstructor) });
    this.game = opts.game ?? (bundledGames[0] as AnyGame);
    if (!this.game.bot) throw new Error(`game ${this.game.id} has no bot: the traffic cannot play it`);
  }

  get players(): TrafficPlayer[] {
    return this.lobbies.flatMap((l) => l.players);
  }

  /** The node serving a lobby now: the one that sent its host's latest welcome. */
  static servingNode(lobby: TrafficLobby): string {
    return lobby.players[0]?.welcomes.at(-1)?.node ?? "?";
  }

  /** The node serving the most of these lobbies, and those lobbies. */
  busiestNode(): { node: string; lobbies: TrafficLobby[] } {
    const byNode = new Map<string, TrafficLobby[]>();
    for (const lobby of this.lobbies) {
      const node = GameTraffic.servingNode(lobby);
      byNode.set(node, [...(byNode.get(node) ?? []), lobby]);
    }
    const [node, lobbies] = [...byNode.entries()].sort((a, b) => b[1].length - a[1].length)[0] ?? ["?", []];
    return { node, lobbies };
  }

  get ackCount(): number {
    return this.players.reduce((n, p) => n + p.acked.length, 0);
  }

  async setup(): Promise<void> {
    const concurrency = this.opts.setupConcurrency ?? 10;
    let started = 0;
    // Without a placement every lobby made is kept; with one, lobbies are made until every place is taken.
    const more = () =>
      this.opts.placement
        ? this.reserved.placed + this.reserved.other < this.opts.lobbies
        : started < this.opts.lobbies;
    const worker = async () => {
      while (more()) {
        started++;
        const lobby = await this.setupLobby();
        if (!lobby) continue;
        this.lobbies.push(lobby);
        if (this.lobbies.length % 10 === 0)
          this.opts.onProgress?.(`set up ${this.lobbies.length}/${this.opts.lobbies} lobbies`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  /** One lobby with its two players connected; null if its node has all the lobbies it should (see placement). */
  private async setupLobby(): Promise<TrafficLobby | null> {
    const create = { game: this.game.id, options: this.opts.gameOptions };
    const host = await this.client.api.createLobby("host", create);
    const lobby: TrafficLobby = { code: host.code, players: [] };
    const hostConnection = await this.connect(host.code, host.token);
    if (!this.reserve(hostConnection.node ?? "?")) {
      hostConnection.close();
      return null;
    }
    lobby.players.push(this.track(lobby, host.playerId, host.token, hostConnection));
    const guest = await this.client.api.joinLobby(host.code, "guest");
    lobby.players.push(this.track(lobby, guest.playerId, guest.token, await this.connect(host.code, guest.token)));
    return lobby;
  }

  private connect(code: string, token: string): Promise<LobbyConnection> {
    return this.client.connect(code, token, {
      backoff: { initialMs: 50, maxMs: 500 },
      game: this.game,
      // A generous liveness bound: a restart on a loaded machine may take a while, and a timeout is not a loss.
      ackTimeoutMs: 30_000,
    });
  }

  /** Takes a place for a lobby served by `node`, if one is left. */
  private reserve(node: string): boolean {
    const { placement, lobbies } = this.opts;
    const placed = placement !== undefined && node === placement.node;
    const room = placed
      ? (placement?.lobbies ?? 0) - this.reserved.placed
      : lobbies - (placement?.lobbies ?? 0) - this.reserved.other;
    if (room <= 0) return false;
    this.reserved[placed ? "placed" : "other"]++;
    return true;
  }

  private track(lobby: TrafficLobby, playerId: string, token: string, connection: LobbyConnection): TrafficPlayer {
    const player: TrafficPlayer = {
      code: lobby.code,
      playerId,
      token,
      connection,
      acked: [],
      rejected: 0,
      failed: 0,
      welcomes: [{ node: connection.node ?? "?", at: Date.now() }],
      events: [],
      gaps: 0,
    };
    connection.on("welcome", (w) => player.welcomes.push({ node: w.node, at: Date.now() }));
    connection.on("gap", () => player.gaps++);
    connection.on("event", ({ seq }) => {
      player.events.push({ seq, at: Date.now() });
    });
    return player;
  }

  start(): void {
    this.running = true;
    this.loops = this.players.map((p) => this.play(p));
  }

  private async play(player: TrafficPlayer): Promise<void> {
    // Two players at ~15 actions/s each: busy lobbies, under the node's default 20/s per connection.
    const [min, max] = this.opts.pauseMs ?? [40, 90];
    while (this.running) {
      const burst = Math.random() < 0.15 ? 2 : 1;
      const actions = Array.from({ length: burst }, () => this.pickAction(player));
      await Promise.all(actions.map((a) => this.send(player, a)));
      await new Promise((r) => setTimeout(r, min + Math.random() * (max - min)));
    }
  }

  /** Half chat, half a move the game's bot finds legal in what this player sees (chat when it has none). */
  private pickAction(player: TrafficPlayer): OutgoingAction {
    const chat = { type: "chat" as const, text: `hello ${Math.random().toString(36).slice(2, 8)}` };
    const lobby = player.connection.lobby;
    if (Math.random() < 0.5 || !lobby) return chat;
    const seat = lobby.players.find((p) => p.id === player.playerId)?.seat ?? null;
    const moves = this.game.bot?.actions(lobby.game, { playerId: player.playerId, seat }) ?? [];
    return moves.length === 0 ? chat : (moves[Math.floor(Math.random() * moves.length)] as OutgoingAction);
  }

  private async send(player: TrafficPlayer, action: OutgoingAction): Promise<void> {
    const id = `${player.playerId}-${Math.random().toString(36).slice(2, 12)}`;
    const sentAt = Date.now();
    try {
      const ack = await player.connection.send({ ...action, id } as OutgoingAction);
      if (ack.seq === undefined) return;
      player.acked.push({
        code: player.code,
        playerId: player.playerId,
        actionId: id,
        seq: ack.seq,
        sentAt,
        ackedAt: Date.now(),
      });
    } catch (err) {
      if (err instanceof ActionRejectedError) player.rejected++;
      else player.failed++;
    }
  }

  /** Stops sending; waits for actions in flight to be acked or fail. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  close(): void {
    for (const p of this.players) p.connection.close();
  }
}

export type Verdict = {
  acked: number;
  lost: number;
  duplicated: number;
  misordered: number;
  gapsInLog: number;
  problems: string[];
};

/**
 * Checks every acked action against the durable log: present exactly once,
 * at the seq it was acked with, each lobby's log gapless, and one player's
 * actions in the order they were sent.
 */
export function verifyAcked(
  acked: AckRecord[],
  log: { code: string; seq: number; playerId: string | null; actionId: string | null }[],
): Verdict {
  const verdict: Verdict = { acked: acked.length, lost: 0, duplicated: 0, misordered: 0, gapsInLog: 0, problems: [] };
  const byAction = new Map<string, number[]>();
  const lastSeq = new Map<string, number>();
  for (const row of log) {
    const expected = (lastSeq.get(row.code) ?? 0) + 1;
    if (row.seq !== expected) {
      verdict.gapsInLog++;
      verdict.problems.push(`${row.code}: log jumps from ${expected - 1} to ${row.seq}`);
    }
    lastSeq.set(row.code, row.seq);
    if (row.actionId === null) continue;
    const key = `${row.code}/${row.playerId}/${row.actionId}`;
    byAction.set(key, [...(byAction.get(key) ?? []), row.seq]);
  }
  for (const seqs of byAction.values()) if (seqs.length > 1) verdict.duplicated++;
  for (const a of acked) {
    const seqs = byAction.get(`${a.code}/${a.playerId}/${a.actionId}`);
    if (!seqs) {
      verdict.lost++;
      verdict.problems.push(`${a.code}: acked action ${a.actionId} (seq ${a.seq}) is not in the log`);
    } else if (!seqs.includes(a.seq)) {
      verdict.lost++;
      verdict.problems.push(`${a.code}: action ${a.actionId} acked as seq ${a.seq} but logged as ${seqs.join(",")}`);
    }
  }
  verdict.misordered = countMisordered(acked);
  return verdict;
}

/** Per player, actions sent one after another (the next sent after the previous ack) must have rising seqs. */
function countMisordered(acked: AckRecord[]): number {
  const byPlayer = new Map<string, AckRecord[]>();
  for (const a of acked) byPlayer.set(a.playerId, [...(byPlayer.get(a.playerId) ?? []), a]);
  let misordered = 0;
  for (const records of byPlayer.values()) {
    const sorted = [...records].sort((x, y) => x.sentAt - y.sentAt);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1] as AckRecord;
      const cur = sorted[i] as AckRecord;
      if (cur.sentAt >= prev.ackedAt && cur.seq <= prev.seq) misordered++;
    }
  }
  return misordered;
}
