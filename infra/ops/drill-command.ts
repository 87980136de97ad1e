import { bundledGames } from "../../shared/games/index.js";
import { AdminClient } from "./admin-client.js";
import { type GlobalOptions, resolveToken, resolveUrl } from "./cli-options.js";
import { emit } from "./cli-output.js";
import { readClusterState } from "./cluster-state.js";
import { formatDrillTable, formatSummary, verdictLine } from "./drill-console.js";
import { formatRss, prepareIdleLobbies, worstRssRatio } from "./drill-idle.js";
import { buildReport, type DrillReport, writeReport } from "./drill-report.js";
import { runDrillSeries } from "./drill-series.js";
import type { DrillResult } from "./drill-summary.js";
import { defaultLogSource } from "./log-check.js";
import { Progress } from "./progress.js";

/**
 * `ringside-ops drill`: runs the drill series, prints the verdict (or, with
 * --json, the report itself and where it was written), writes the report,
 * sets the exit code.
 */

export type DrillCommandOptions = {
  lobbies: number;
  /** A bundled game's id (default connect-four). */
  game?: string;
  node?: string;
  random?: boolean;
  pid?: number;
  killCommand?: string;
  repeat: number;
  warmupMs: number;
  observeMs: number;
  out: string;
  databaseUrl?: string;
  schema?: string;
  recoverTimeoutMs: number;
  /** Idle lobbies made (and unloaded) before the drill; 0: none. */
  idleLobbies: number;
  idleTimeoutMs: number;
};

/** After the idle lobbies unloaded, a node's memory is within this factor of before. */
export const IDLE_RSS_TARGET = 1.1;

/** Exit code when the drill ran but a target was not met (1 is kept for errors). */
export const EXIT_TARGETS_NOT_MET = 2;

export async function drillCommand(opts: DrillCommandOptions, global: GlobalOptions): Promise<number> {
  if (opts.pid !== undefined && opts.repeat > 1) {
    throw new Error("--pid names one process: it cannot be killed again after it restarted; use --repeat 1");
  }
  if (opts.pid !== undefined && opts.killCommand)
    throw new Error("--pid and --kill-command are two ways to kill: pick one");
  const baseUrl = await resolveUrl(global);
  const admin = new AdminClient(baseUrl, resolveToken(global));
  const fallback = defaultLogSource(process.env, await readClusterState());
  const game = bundledGames.find((g) => g.id === (opts.game ?? "connect-four"));
  if (!game) throw new Error(`--game: no bundled game "${opts.game}"`);
  const progress = new Progress();
  const idle =
    opts.idleLobbies > 0
      ? await prepareIdleLobbies(admin, opts.idleLobbies, {
          timeoutMs: opts.idleTimeoutMs,
          onProgress: (text) => progress.phase(text),
        })
      : undefined;
  const results = await runDrillSeries(admin, {
    baseUrl,
    lobbies: opts.lobbies,
    game,
    victim: { node: opts.node, random: opts.random },
    pid: opts.pid,
    killCommand: opts.killCommand,
    warmupMs: opts.warmupMs,
    observeMs: opts.observeMs,
    logSource: { databaseUrl: opts.databaseUrl ?? fallback.databaseUrl, schema: opts.schema ?? fallback.schema },
    progress,
    repeat: opts.repeat,
    recoverTimeoutMs: opts.recoverTimeoutMs,
  });
  const report = buildReport(results, {
    balancer: baseUrl,
    settings: {
      lobbies: opts.lobbies,
      warmupMs: opts.warmupMs,
      observeMs: opts.observeMs,
      repeat: opts.repeat,
      node: opts.node ?? null,
      random: opts.random === true,
      killCommand: opts.killCommand ?? null,
      idleLobbies: opts.idleLobbies,
    },
    idle,
  });
  const paths = await writeReport(report, opts.out);
  if (global.json) emit(global, { ...report, files: paths }, () => "");
  else printVerdict(results, report, paths);
  const memoryMet = !idle || worstRssRatio(idle) <= IDLE_RSS_TARGET;
  return report.totals.passed && memoryMet ? 0 : EXIT_TARGETS_NOT_MET;
}

function printVerdict(results: DrillResult[], report: DrillReport, paths: { html: string; json: string }): void {
  console.log("");
  if (results.length > 1) {
    console.log(formatDrillTable(results));
    console.log("");
  }
  const first = results[0];
  if (results.length === 1 && first) console.log(formatSummary(first.summary, "Failover drill"));
  else console.log(formatSummary(report.totals, `Totals over ${results.length} drills`));
  if (report.idle) {
    const ratio = worstRssRatio(report.idle);
    const met = ratio <= IDLE_RSS_TARGET;
    console.log("");
    console.log(`idle lobbies       ${report.idle.lobbies} made, unloaded after ${report.idle.unloadWaitMs} ms`);
    console.log(`node memory        before: ${formatRss(report.idle.before)}`);
    console.log(`                   after:  ${formatRss(report.idle.after)}`);
    console.log(
      `                   worst after/before ${ratio.toFixed(2)} (target <= ${IDLE_RSS_TARGET}): ${met ? "met" : "NOT met"}`,
    );
  }
  console.log("");
  console.log(verdictLine(report.totals.passed, [paths.html, paths.json]));
}
