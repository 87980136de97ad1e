import { colour, textTable } from "../ops/text-table.js";
import type { ChaosReport } from "./report.js";

/** The soak's result for the terminal: recovery per kind, every fault, the durability verdict, the violations. */

function ms(v: number | null): string {
  return v === null ? "-" : `${Math.round(v)} ms`;
}

export function formatChaosSummary(r: ChaosReport): string {
  const d = r.durability;
  const kinds = textTable(
    ["FAULT", "COUNT", "LOBBIES HIT", "RECOVERY P50", "RECOVERY MAX", "SILENCE P50", "SILENCE MAX", ""],
    r.byKind.map((k) => [
      k.kind,
      k.count,
      k.affected,
      ms(k.p50RecoveryMs),
      ms(k.maxRecoveryMs),
      ms(k.p50SilenceMs),
      ms(k.maxSilenceMs),
      k.count === 0 ? colour.yellow("not run") : k.failed ? colour.red(`${k.failed} FAILED`) : colour.green("ok"),
    ]),
  );
  const faults = textTable(
    ["#", "AT", "FAULT", "TARGET", "DETAIL", "HIT", "SILENCE", "RECOVERY", "AFTER HEAL"],
    r.faults.map((f) => [
      f.index,
      `+${(f.offsetMs / 1000).toFixed(1)} s`,
      f.kind,
      f.target,
      f.error ? colour.red(f.error.slice(0, 60)) : f.detail,
      `${f.affected}/${f.lobbies}`,
      ms(f.maxSilenceMs),
      ms(f.recoveryMs),
      ms(f.afterHealMs),
    ]),
  );
  const t = r.traffic;
  return [
    colour.bold(
      `Chaos soak: ${(r.durationMs / 60_000).toFixed(1)} min, ${r.faults.length} faults, seed ${r.settings.seed}`,
    ),
    `  traffic       ${t.players} players: ${t.acked} acked, ${t.rejected} rejected, ${t.failed} unanswered, ${t.reconnects} reconnects, ${t.clientGaps} gaps seen by clients`,
    `  durable log   ${d.logged} events: lost ${d.lost}, duplicated ${d.duplicated}, misordered ${d.misordered}, gaps ${d.gaps}`,
    ...r.skipped.map((s) => `  ${colour.yellow("skipped")}       ${s}`),
    "",
    kinds,
    "",
    faults,
    ...(r.durability.problems.length ? ["", ...r.durability.problems.slice(0, 10).map((p) => `  ! ${p}`)] : []),
  ].join("\n");
}

export function chaosVerdictLine(r: ChaosReport, files: string[], clusterLog: string | null): string {
  const head = r.passed
    ? colour.green("✓ no violation: 0 lost, 0 duplicated, 0 misordered, every fault recovered")
    : colour.red(`✗ ${r.violations.length} violation(s):\n${r.violations.map((v) => `    - ${v}`).join("\n")}`);
  return `${head}\n  report: ${files.join("  ")}${clusterLog ? `\n  cluster log: ${clusterLog}` : ""}`;
}
