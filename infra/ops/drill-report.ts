import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { renderReportHtml } from "./drill-html.js";
import type { IdleSetup } from "./drill-idle.js";
import { type DrillResult, type DrillSummary, TARGETS, totalsOf } from "./drill-summary.js";

/**
 * The drill's lasting record: reports/drill-<timestamp>.json for machines
 * (every summary and per-lobby recovery) and a self-contained .html for
 * people, written side by side from the same data.
 */

export type DrillSettings = {
  lobbies: number;
  warmupMs: number;
  observeMs: number;
  repeat: number;
  node: string | null;
  random: boolean;
  /** The operator's kill command template, when nodes were not killed as local processes. */
  killCommand?: string | null;
  /** Idle lobbies made before the drill (--idle-lobbies). */
  idleLobbies?: number;
};

export type DrillReport = {
  createdAt: string;
  balancer: string;
  settings: DrillSettings;
  targets: typeof TARGETS;
  totals: DrillSummary;
  drills: DrillResult[];
  /** The idle lobbies made before the drill and the nodes' memory before and after they unloaded. */
  idle?: IdleSetup;
};

export function buildReport(
  results: DrillResult[],
  context: { balancer: string; settings: DrillSettings; createdAt?: Date; idle?: IdleSetup },
): DrillReport {
  const totals = totalsOf(results);
  if (!totals) throw new Error("no drill ran: nothing to report");
  return {
    createdAt: (context.createdAt ?? new Date()).toISOString(),
    balancer: context.balancer,
    settings: context.settings,
    targets: TARGETS,
    totals,
    drills: results,
    ...(context.idle ? { idle: context.idle } : {}),
  };
}

/** JSON has no Infinity: a lobby that never recovered counts as Infinity in the stats and is written as null. */
export function reportJson(report: DrillReport): string {
  return JSON.stringify(
    report,
    (_key, value) => (typeof value === "number" && !Number.isFinite(value) ? null : value),
    2,
  );
}

export async function writeReport(report: DrillReport, dir: string): Promise<{ json: string; html: string }> {
  await mkdir(dir, { recursive: true });
  // Colons are not allowed in Windows file names and awkward in shells.
  const stamp = report.createdAt.replace(/\.\d+Z$/, "Z").replace(/:/g, "-");
  const base = resolve(join(dir, `drill-${stamp}`));
  const paths = { json: `${base}.json`, html: `${base}.html` };
  await writeFile(paths.json, reportJson(report));
  await writeFile(paths.html, renderReportHtml(report));
  return paths;
}
