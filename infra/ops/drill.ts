import type { AnyGame } from "../../shared/game/define-game.js";
import { type LobbyRecord, lobbiesPerNode, lobbyRecovery, type RecoveryWindow } from "./drill-recovery.js";
import { type DrillResult, summarizeDrill } from "./drill-summary.js";
import { GameTraffic } from "./game-traffic.js";
import { runKillCommand } from "./kill-command.js";
import { checkAckedAgainstLog, type LogSource } from "./log-check.js";
import type { Progress } from "./progress.js";
import { assertRingsideNode, chooseVictim, resolvePid, type VictimChoice } from "./victim.js";

/**
 * One failover drill against a running cluster: real players through the
 * balancer, SIGKILL of the node serving the most of them (or the operator's
 * kill command, for nodes that are not local processes), then how long each
 * of its lobbies took to come back and whether every acked action survived.
 */

export type DrillOptions = {
  baseUrl: string;
  lobbies: number;
  /** Exactly this many of the lobbies on this node (see GameTraffic): drills compared side by side lose as many. */
  placement?: { node: string; lobbies: number };
  /** The game the drill's players play (default: the traffic's, connect-four). */
  game?: AnyGame;
  victim: VictimChoice;
  pid?: number;
  /** Shell command template with {node}; replaces the local SIGKILL (see kill-command.ts). */
  killCommand?: string;
  warmupMs: number;
  observeMs: number;
  logSource: LogSource;
  progress: Progress;
  drill: number;
};

/** How far before the kill the report's timeline starts. */
const TIMELINE_BEFORE_MS = 2000;

/** pid 0: killed by the operator's command, not a local process. */
type Kill = { victim: string; pid: number; at: number };

export async function runDrill(opts: DrillOptions): Promise<DrillResult> {
  const { progress } = opts;
  const traffic = new GameTraffic({
    baseUrl: opts.baseUrl,
    lobbies: opts.lobbies,
    placement: opts.placement,
    game: opts.game,
    onProgress: (text) => progress.phase(`  ${text}`),
  });
  try {
    await startLoad(traffic, opts);
    progress.phase(`warming up for ${opts.warmupMs} ms`);
    progress.startLive(() => `${traffic.ackCount} acks`);
    await sleep(opts.warmupMs);
    const kill = await killVictim(traffic.lobbies, opts);
    const windowUntil = (loadEndAt: number, endAt: number): RecoveryWindow => ({
      killAt: kill.at,
      victim: kill.victim,
      loadEndAt,
      endAt,
      timelineFromMs: -Math.min(TIMELINE_BEFORE_MS, opts.warmupMs),
    });
    progress.phase(`observing for ${opts.observeMs} ms under load`);
    progress.startLive(() => liveLine(traffic, windowUntil(Date.now(), Date.now())));
    await sleep(opts.observeMs);
    const loadEndAt = Date.now();
    await stopLoad(traffic, progress);
    // The window ends when the last action in flight settled: acks and recoveries up to then are real.
    return await conclude(traffic, kill, windowUntil(loadEndAt, Date.now()), opts);
  } finally {
    progress.stopLive();
    traffic.close();
  }
}

async function startLoad(traffic: GameTraffic, opts: DrillOptions): Promise<void> {
  opts.progress.phase(`drill ${opts.drill}: setting up ${opts.lobbies} lobbies of 2 players through ${opts.baseUrl}`);
  try {
    await traffic.setup();
  } catch (err) {
    throw new Error(`setting up the drill's lobbies failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  traffic.start();
}

async function killVictim(lobbies: readonly LobbyRecord[], opts: DrillOptions): Promise<Kill> {
  const perNode = lobbiesPerNode(lobbies, Date.now());
  const victim = chooseVictim(perNode, opts.victim);
  const spread = perNode.map(([node, n]) => `${node} ${n}`).join(", ");
  if (opts.killCommand) {
    opts.progress.phase(`killing ${victim} with the kill command; lobbies per node: ${spread}`);
    // Recovery counts from the moment the command starts: its own latency is part of the outage measured.
    const at = Date.now();
    await runKillCommand(opts.killCommand, victim);
    return { victim, pid: 0, at };
  }
  const pid = await resolvePid(victim, opts.pid);
  await assertRingsideNode(pid);
  opts.progress.phase(`killing ${victim} (pid ${pid}) with SIGKILL; lobbies per node: ${spread}`);
  const at = Date.now();
  process.kill(pid, "SIGKILL");
  return { victim, pid, at };
}

async function stopLoad(traffic: GameTraffic, progress: Progress): Promise<void> {
  progress.phase("stopping the load (waiting for actions in flight)");
  progress.startLive(() => `${traffic.players.reduce((n, p) => n + p.connection.pending, 0)} actions in flight`);
  await traffic.stop();
}

async function conclude(traffic: GameTraffic, kill: Kill, window: RecoveryWindow, opts: DrillOptions) {
  const acked = traffic.players.flatMap((p) => p.acked);
  opts.progress.phase(`checking ${acked.length} acked actions against the durable log`);
  const codes = traffic.lobbies.map((l) => l.code);
  const durability = await checkAckedAgainstLog(opts.logSource, codes, acked);
  const lobbies = traffic.lobbies.map((l) => lobbyRecovery(l, window));
  const summary = summarizeDrill({
    drill: opts.drill,
    victim: kill.victim,
    victimPid: kill.pid,
    killAt: kill.at,
    windowMs: { from: window.timelineFromMs, to: window.endAt - kill.at },
    lobbies,
    ackedAt: acked.map((a) => a.ackedAt),
    rejected: traffic.players.reduce((n, p) => n + p.rejected, 0),
    failed: traffic.players.reduce((n, p) => n + p.failed, 0),
    durability,
  });
  return { summary, lobbies };
}

function liveLine(traffic: GameTraffic, window: RecoveryWindow): string {
  const recoveries = traffic.lobbies.map((l) => lobbyRecovery(l, window)).filter((r) => r.affected);
  const recovered = recoveries.filter((r) => r.recoveryMs !== null).length;
  const after = recoveries.reduce((n, r) => n + r.acksAfter, 0);
  return `${traffic.ackCount} acks, ${after} in affected lobbies since the kill; recovered ${recovered}/${recoveries.length} lobbies`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
