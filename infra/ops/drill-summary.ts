import type { LobbyRecovery } from "./drill-recovery.js";
import type { Verdict } from "./game-traffic.js";

/**
 * The drill's verdict: recovery percentiles over the affected lobbies, the
 * durability counts from the log check, and each design target met or not.
 * Targets come from docs/design (invariant 5 and 3): p99 < 2 s, max < 3 s,
 * nothing acked lost or duplicated.
 */

export const TARGETS = { p99Ms: 2000, maxMs: 3000 } as const;

/** What verifyAcked found in the durable log. */
export type Durability = Verdict;

export type TargetCheck = { name: string; target: string; actual: string; met: boolean };

export type DrillSummary = {
  drill: number;
  victim: string;
  victimPid: number;
  killAt: string;
  /** The observed window around the kill, in ms relative to it (the timeline's x range). */
  windowMs: { from: number; to: number };
  lobbies: number;
  affected: number;
  recovered: number;
  unaffected: number;
  /** Unaffected lobbies whose players were welcomed again after the kill (they should not have been). */
  unaffectedReconnected: number;
  unaffectedLongestSilenceMs: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  ackedBeforeKill: number;
  ackedAfterKill: number;
  rejected: number;
  failed: number;
  durability: Durability;
  targets: TargetCheck[];
  passed: boolean;
  /** Things that meet no target yet deserve a look (stalls on healthy nodes, unanswered actions). */
  warnings: string[];
};

export type DrillResult = { summary: DrillSummary; lobbies: LobbyRecovery[] };

/** Nearest-rank percentile of ascending values (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? null;
}

export type RecoveryStats = {
  affected: number;
  recovered: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
};

/** An affected lobby that never recovered counts as infinitely slow: it can only fail the targets. */
export function recoveryStats(lobbies: readonly LobbyRecovery[]): RecoveryStats {
  const affected = lobbies.filter((l) => l.affected);
  const times = affected.map((l) => l.recoveryMs ?? Number.POSITIVE_INFINITY).sort((a, b) => a - b);
  return {
    affected: affected.length,
    recovered: affected.filter((l) => l.recoveryMs !== null).length,
    p50Ms: percentile(times, 50),
    p99Ms: percentile(times, 99),
    maxMs: times.at(-1) ?? null,
  };
}

export function checkTargets(stats: RecoveryStats, durability: Durability): TargetCheck[] {
  const ms = (v: number | null) => (v === null ? "n/a" : Number.isFinite(v) ? `${Math.round(v)} ms` : "not recovered");
  // With no affected lobby the drill proved nothing about failover: that is a failure, not a pass.
  const measured = stats.affected > 0;
  return [
    {
      name: "affected lobbies",
      target: "> 0",
      actual: String(stats.affected),
      met: measured,
    },
    {
      name: "recovery p99",
      target: `< ${TARGETS.p99Ms} ms`,
      actual: ms(stats.p99Ms),
      met: measured && (stats.p99Ms ?? 0) < TARGETS.p99Ms,
    },
    {
      name: "recovery max",
      target: `< ${TARGETS.maxMs} ms`,
      actual: ms(stats.maxMs),
      met: measured && (stats.maxMs ?? 0) < TARGETS.maxMs,
    },
    { name: "acked actions lost", target: "0", actual: String(durability.lost), met: durability.lost === 0 },
    {
      name: "acked actions duplicated",
      target: "0",
      actual: String(durability.duplicated),
      met: durability.duplicated === 0,
    },
  ];
}

/** What one drill observed, for summarizeDrill. */
export type DrillFacts = {
  drill: number;
  victim: string;
  victimPid: number;
  killAt: number;
  windowMs: DrillSummary["windowMs"];
  lobbies: LobbyRecovery[];
  /** When each acked action was acked (epoch ms). */
  ackedAt: number[];
  rejected: number;
  failed: number;
  durability: Durability;
};

export function summarizeDrill(f: DrillFacts): DrillSummary {
  const stats = recoveryStats(f.lobbies);
  const unaffected = f.lobbies.filter((l) => !l.affected);
  const targets = checkTargets(stats, f.durability);
  return {
    drill: f.drill,
    victim: f.victim,
    victimPid: f.victimPid,
    killAt: new Date(f.killAt).toISOString(),
    windowMs: f.windowMs,
    lobbies: f.lobbies.length,
    ...stats,
    unaffected: unaffected.length,
    unaffectedReconnected: unaffected.filter((l) => l.welcomesAfterKill > 0).length,
    unaffectedLongestSilenceMs: Math.max(0, ...unaffected.map((l) => l.longestSilenceMs)),
    ackedBeforeKill: f.ackedAt.filter((t) => t < f.killAt).length,
    ackedAfterKill: f.ackedAt.filter((t) => t >= f.killAt).length,
    rejected: f.rejected,
    failed: f.failed,
    durability: f.durability,
    targets,
    passed: targets.every((t) => t.met),
    warnings: warningsOf(f.lobbies, f.durability),
  };
}

/** A lobby on a surviving node silent this long was hurt by a failure that was not its own. */
export const STALL_WARNING_MS = 1000;

export function warningsOf(lobbies: readonly LobbyRecovery[], durability: Durability): string[] {
  const warnings: string[] = [];
  const unanswered = lobbies.filter((l) => l.failed > 0);
  if (unanswered.length > 0) {
    const n = unanswered.reduce((sum, l) => sum + l.failed, 0);
    const affected = unanswered.filter((l) => l.affected).length;
    warnings.push(
      `${n} action(s) got neither an ack nor a rejection (client timeout), in ${unanswered.length} lobbies (${affected} of them affected)`,
    );
  }
  const unaffected = lobbies.filter((l) => !l.affected);
  const moved = unaffected.filter((l) => l.welcomesAfterKill > 0);
  if (moved.length > 0) warnings.push(`${moved.length} unaffected lobbies reconnected after the kill`);
  const stalled = unaffected.filter((l) => l.longestSilenceMs > STALL_WARNING_MS);
  if (stalled.length > 0) {
    const worst = Math.max(...stalled.map((l) => l.longestSilenceMs));
    warnings.push(
      `${stalled.length} unaffected lobbies went silent for over ${STALL_WARNING_MS} ms (worst ${worst} ms)`,
    );
  }
  if (durability.misordered > 0) warnings.push(`${durability.misordered} acked action(s) logged out of order`);
  if (durability.gapsInLog > 0) warnings.push(`${durability.gapsInLog} gap(s) in the lobbies' logs`);
  return warnings;
}

/** All drills of a run as one: recovery percentiles over every affected lobby, counts summed. */
export function totalsOf(results: readonly DrillResult[]): DrillSummary | null {
  if (results.length === 0) return null;
  const sum = (f: (s: DrillSummary) => number) => results.reduce((n, r) => n + f(r.summary), 0);
  const stats = recoveryStats(results.flatMap((r) => r.lobbies));
  const durability: Durability = {
    acked: sum((s) => s.durability.acked),
    lost: sum((s) => s.durability.lost),
    duplicated: sum((s) => s.durability.duplicated),
    misordered: sum((s) => s.durability.misordered),
    gapsInLog: sum((s) => s.durability.gapsInLog),
    problems: results.flatMap((r) => r.summary.durability.problems),
  };
  const passing = results.filter((r) => r.summary.passed).length;
  // Percentiles over all drills can hide one bad drill: every drill must pass on its own too.
  const targets = [
    ...checkTargets(stats, durability),
    { name: "drills passing", target: "all", actual: `${passing}/${results.length}`, met: passing === results.length },
  ];
  return {
    drill: 0,
    victim: [...new Set(results.map((r) => r.summary.victim))].join(", "),
    victimPid: 0,
    killAt: results[0]?.summary.killAt ?? "",
    windowMs: {
      from: Math.min(...results.map((r) => r.summary.windowMs.from)),
      to: Math.max(...results.map((r) => r.summary.windowMs.to)),
    },
    lobbies: sum((s) => s.lobbies),
    ...stats,
    unaffected: sum((s) => s.unaffected),
    unaffectedReconnected: sum((s) => s.unaffectedReconnected),
    unaffectedLongestSilenceMs: Math.max(...results.map((r) => r.summary.unaffectedLongestSilenceMs)),
    ackedBeforeKill: sum((s) => s.ackedBeforeKill),
    ackedAfterKill: sum((s) => s.ackedAfterKill),
    rejected: sum((s) => s.rejected),
    failed: sum((s) => s.failed),
    durability,
    targets,
    passed: targets.every((t) => t.met),
    warnings: results.flatMap((r) => r.summary.warnings.map((w) => `drill ${r.summary.drill}: ${w}`)),
  };
}
