import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { DurabilityVerdict } from "./durability.js";
import { renderChaosHtml } from "./html.js";
import { ackSeries, type FaultKind, type FaultRecord, type FaultRecovery, faultRecovery } from "./recovery.js";
import type { SoakRun } from "./soak.js";

/**
 * The soak's lasting record: reports/chaos-<timestamp>.json (every fault
 * with its recovery, the traffic, the durability verdict, the throughput
 * series) and a self-contained .html beside it, from the same data.
 */

export type ChaosSettings = {
  minutes: number;
  seed: number;
  lobbies: number;
  holdMs: number;
  kinds: FaultKind[];
  /** True when the soak started its own cluster (--start). */
  ownCluster: boolean;
};

export type ChaosFault = FaultRecord & FaultRecovery & { at: string; offsetMs: number };

export type KindSummary = {
  kind: FaultKind;
  count: number;
  failed: number;
  affected: number;
  /** Of the faults that hit a lobby (silent over a second); null when none did. */
  p50RecoveryMs: number | null;
  maxRecoveryMs: number | null;
  /** Each fault's longest lobby silence, hit or not: a failover under a second shows here. */
  p50SilenceMs: number;
  maxSilenceMs: number;
};

export type ChaosReport = {
  createdAt: string;
  balancer: string;
  settings: ChaosSettings;
  startedAt: string;
  durationMs: number;
  faults: ChaosFault[];
  byKind: KindSummary[];
  traffic: SoakRun["traffic"];
  durability: DurabilityVerdict;
  skipped: string[];
  violations: string[];
  passed: boolean;
  series: { binMs: number; acks: number[] };
};

const SERIES_BIN_MS = 1000;

export function buildChaosReport(
  run: SoakRun,
  context: { balancer: string; settings: ChaosSettings; createdAt?: Date },
): ChaosReport {
  const faults = run.faults.map((f) => ({
    ...f,
    ...faultRecovery(f, run.lobbies),
    at: new Date(f.injectedAt).toISOString(),
    offsetMs: f.injectedAt - run.startedAt,
  }));
  const violations = violationsOf(faults, run.durability);
  return {
    createdAt: (context.createdAt ?? new Date()).toISOString(),
    balancer: context.balancer,
    settings: context.settings,
    startedAt: new Date(run.startedAt).toISOString(),
    durationMs: run.endedAt - run.startedAt,
    faults,
    byKind: summarizeKinds(faults, context.settings.kinds),
    traffic: run.traffic,
    durability: run.durability,
    skipped: run.skipped,
    violations,
    passed: violations.length === 0,
    series: { binMs: SERIES_BIN_MS, acks: ackSeries(run.ackTimes, run.startedAt, run.endedAt, SERIES_BIN_MS) },
  };
}

function violationsOf(faults: readonly ChaosFault[], d: DurabilityVerdict): string[] {
  const out: string[] = [];
  if (d.lost) out.push(`${d.lost} acked actions lost`);
  if (d.duplicated) out.push(`${d.duplicated} actions duplicated in the log`);
  if (d.misordered) out.push(`${d.misordered} actions misordered`);
  if (d.gaps) out.push(`${d.gaps} gaps in the lobbies' logs`);
  for (const f of faults) {
    if (f.error) out.push(`fault ${f.index} (${f.kind} ${f.target}) did not recover: ${f.error}`);
    else if (f.unrecovered)
      out.push(`fault ${f.index} (${f.kind} ${f.target}): ${f.unrecovered} lobbies never served again`);
  }
  return out;
}

function summarizeKinds(faults: readonly ChaosFault[], kinds: readonly FaultKind[]): KindSummary[] {
  return kinds.map((kind) => {
    const of = faults.filter((f) => f.kind === kind);
    const hit = of.filter((f) => f.affected > 0);
    const times = sorted(hit.map((f) => f.recoveryMs).filter((t): t is number => t !== null));
    const silences = sorted(of.map((f) => f.maxSilenceMs));
    return {
      kind,
      count: of.length,
      failed: of.filter((f) => f.error || f.unrecovered).length,
      affected: of.reduce((n, f) => n + f.affected, 0),
      p50RecoveryMs: median(times),
      maxRecoveryMs: times.at(-1) ?? null,
      p50SilenceMs: median(silences) ?? 0,
      maxSilenceMs: silences.at(-1) ?? 0,
    };
  });
}

function sorted(values: number[]): number[] {
  return values.sort((a, b) => a - b);
}

function median(values: readonly number[]): number | null {
  return values.length ? (values[Math.floor((values.length - 1) / 2)] as number) : null;
}

export async function writeChaosReport(report: ChaosReport, dir: string): Promise<{ json: string; html: string }> {
  await mkdir(dir, { recursive: true });
  const stamp = report.createdAt.replace(/\.\d+Z$/, "Z").replace(/:/g, "-");
  const base = resolve(join(dir, `chaos-${stamp}`));
  const paths = { json: `${base}.json`, html: `${base}.html` };
  await writeFile(paths.json, JSON.stringify(report, null, 2));
  await writeFile(paths.html, renderChaosHtml(report));
  return paths;
}
