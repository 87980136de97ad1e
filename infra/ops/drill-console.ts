import type { DrillResult, DrillSummary } from "./drill-summary.js";
import { colour, textTable } from "./text-table.js";

/** The drill's result as text for the terminal: the summary, and with --repeat a table per drill and the totals. */

export function ms(value: number | null): string {
  if (value === null) return "-";
  return Number.isFinite(value) ? `${Math.round(value)} ms` : "never";
}

export function formatSummary(s: DrillSummary, title: string): string {
  const d = s.durability;
  const lines = [
    colour.bold(title),
    `  victim             ${s.victim}${s.victimPid ? ` (pid ${s.victimPid}), killed at ${s.killAt}` : ""}`,
    `  lobbies            ${s.lobbies}: ${s.affected} affected, ${s.recovered} recovered; ${s.unaffected} unaffected` +
      ` (${s.unaffectedReconnected} reconnected, longest silence ${ms(s.unaffectedLongestSilenceMs)})`,
    `  recovery           p50 ${ms(s.p50Ms)}   p99 ${ms(s.p99Ms)}   max ${ms(s.maxMs)}`,
    `  acked              ${s.ackedBeforeKill} before the kill, ${s.ackedAfterKill} after (${s.rejected} rejected, ${s.failed} failed)`,
    `  durable log        lost ${d.lost}, duplicated ${d.duplicated}, misordered ${d.misordered}, gaps ${d.gapsInLog}`,
    "",
    textTable(
      ["TARGET", "WANTED", "ACTUAL", ""],
      s.targets.map((t) => [t.name, t.target, t.actual, t.met ? colour.green("met") : colour.red("NOT MET")]),
    ),
  ];
  const warnings = s.warnings.map((w) => `  ${colour.yellow("warning")} ${w}`);
  const problems = d.problems.slice(0, 10).map((p) => `  ! ${p}`);
  if (d.problems.length > 10) problems.push(`  ! ... and ${d.problems.length - 10} more (see the JSON report)`);
  return [...lines, ...(warnings.length ? ["", ...warnings] : []), ...problems].join("\n");
}

/** One drill's row of figures, as both the terminal table and the HTML report show them. */
export function drillFigures(s: DrillResult["summary"]): (string | number)[] {
  return [
    s.drill,
    s.victim,
    `${s.recovered}/${s.affected}`,
    ms(s.p50Ms),
    ms(s.p99Ms),
    ms(s.maxMs),
    s.ackedBeforeKill,
    s.ackedAfterKill,
    s.durability.lost,
    s.durability.duplicated,
    s.durability.misordered,
  ];
}

export function formatDrillTable(results: readonly DrillResult[]): string {
  const rows = results.map(({ summary: s }) => [
    ...drillFigures(s),
    s.passed ? colour.green("pass") : colour.red("FAIL"),
  ]);
  return textTable(
    ["DRILL", "VICTIM", "RECOVERED", "P50", "P99", "MAX", "ACKED<", "ACKED>", "LOST", "DUP", "MISORD", ""],
    rows,
  );
}

export function verdictLine(passed: boolean, reportPaths: string[]): string {
  const verdict = passed ? colour.green("all targets met") : colour.red("targets NOT met");
  return `${verdict}\nreport: ${reportPaths.join("  ")}`;
}
