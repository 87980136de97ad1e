import { REPORT_CSS } from "../ops/drill-html-style.js";
import { escapeHtml as e } from "../ops/svg-util.js";
import type { ChaosFault, ChaosReport, KindSummary } from "./report.js";
import { renderChaosTimelineSvg } from "./timeline-svg.js";

/**
 * The chaos report as one self-contained HTML page (inline CSS and SVG, no
 * script, no network), in the drill report's style: the verdict and the
 * durability figures first, then recovery per fault kind, the timeline and
 * every fault.
 */

const CHAOS_CSS = `
svg .acks-area { fill:#2e9e6f; fill-opacity:.35; stroke:#2e9e6f; stroke-width:1; }
svg .kind-row:nth-child(odd) .band { fill:#f8f9fb; }
svg .held { fill:#b54708; fill-opacity:.55; }
svg .fault.failed .outage { fill:var(--bad); }
ul.violations li { color:var(--bad); }
`;

export function renderChaosHtml(r: ChaosReport): string {
  const verdict = r.passed ? "pass" : "fail";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ringside chaos soak ${e(r.createdAt)}: ${r.passed ? "no violation" : "VIOLATIONS"}</title>
<style>${REPORT_CSS}${CHAOS_CSS}</style></head>
<body><main>
<header><div><h1>Ringside chaos soak</h1>
<div class="sub">${e(new Date(r.createdAt).toUTCString())} · balancer ${e(r.balancer)} · ${r.settings.lobbies} lobbies × 2 players ·
${(r.durationMs / 60_000).toFixed(1)} min · ${r.faults.length} faults · seed ${r.settings.seed}${r.settings.ownCluster ? " · own cluster (--start)" : ""}</div></div>
<div class="verdict ${verdict}" data-verdict="${verdict}">${r.passed ? "✓ no violation" : `✗ ${r.violations.length} violation${r.violations.length === 1 ? "" : "s"}`}</div></header>
${figures(r)}
${violations(r)}
<section class="card"><h2>Recovery per fault kind</h2>${kindsTable(r.byKind)}</section>
<section class="card"><h2>Timeline</h2>${renderChaosTimelineSvg(r)}
<div class="legend"><span><i style="background:#2e9e6f;opacity:.5"></i>acks per second</span>
<span><i style="background:#b54708;opacity:.7"></i>fault held (SIGSTOP, stall, drain)</span>
<span><i style="background:#f79009"></i>until every hit lobby was served again</span><span><i style="background:#c4320a"></i>not recovered</span></div></section>
<section class="card"><h2>Every fault</h2>${faultsTable(r.faults)}</section>
${help()}
</main></body></html>
`;
}

function figures(r: ChaosReport): string {
  const d = r.durability;
  const card = (metric: string, label: string, value: string | number, note: string, ok?: boolean) =>
    `<div class="figure${ok === undefined ? "" : ok ? " ok" : " bad"}"><div class="label">${label}</div><div class="value" data-metric="${metric}">${e(String(value))}</div><div class="note">${note}</div></div>`;
  const failedFaults = r.faults.filter((f) => f.error || f.unrecovered).length;
  return `<div class="figures">
${card("faults", "Faults", `${r.faults.length - failedFaults}/${r.faults.length}`, "recovered", failedFaults === 0)}
${card("acked", "Acked", d.acked, `${r.traffic.rejected} rejected, ${r.traffic.failed} unanswered`)}
${card("reconnects", "Reconnects", r.traffic.reconnects, `${r.traffic.players} players`)}
${card("logged", "Logged events", d.logged, "in the lobbies' logs")}
${card("lost", "Lost", d.lost, "acked, not in the log", d.lost === 0)}
${card("duplicated", "Duplicated", d.duplicated, "logged twice", d.duplicated === 0)}
${card("misordered", "Misordered", d.misordered, "not in send order", d.misordered === 0)}
${card("gaps", "Gaps", d.gaps, "holes in a log", d.gaps === 0)}
</div>`;
}

function violations(r: ChaosReport): string {
  const skipped = r.skipped.map((s) => `<li>skipped ${e(s)}</li>`).join("");
  if (r.violations.length === 0 && !skipped) return "";
  const list = r.violations.map((v) => `<li>${e(v)}</li>`).join("");
  const problems = r.durability.problems
    .slice(0, 50)
    .map((p) => `<li><code>${e(p)}</code></li>`)
    .join("");
  return `<section class="card"><h2>${r.violations.length ? "Violations" : "Notes"}</h2><ul class="violations">${list}</ul>
${skipped ? `<div class="warnings"><ul>${skipped}</ul></div>` : ""}${problems ? `<ul class="problems">${problems}</ul>` : ""}</section>`;
}

function ms(v: number | null): string {
  return v === null ? "-" : `${Math.round(v)} ms`;
}

function kindsTable(kinds: readonly KindSummary[]): string {
  const rows = kinds.map(
    (k) =>
      `<tr class="${k.failed ? "not-met" : "met"}" data-kind="${e(k.kind)}"><td>${e(k.kind)}</td><td class="num">${k.count}</td><td class="num">${k.affected}</td><td class="num">${ms(k.p50RecoveryMs)}</td><td class="num">${ms(k.maxRecoveryMs)}</td><td class="num">${ms(k.p50SilenceMs)}</td><td class="num">${ms(k.maxSilenceMs)}</td><td><span class="pill ${k.failed || k.count === 0 ? "not-met" : "met"}">${k.count === 0 ? "not run" : k.failed ? `${k.failed} failed` : "recovered"}</span></td></tr>`,
  );
  return `<table class="kinds"><thead><tr><th>Fault</th><th class="num">Count</th><th class="num">Lobbies hit</th><th class="num">Recovery p50</th><th class="num">Recovery max</th><th class="num">Silence p50</th><th class="num">Silence max</th><th></th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function faultsTable(faults: readonly ChaosFault[]): string {
  const rows = faults.map((f) => {
    const failed = f.error !== null || f.unrecovered > 0;
    return `<tr class="${failed ? "not-met" : "met"}"><td class="num">${f.index}</td><td>${e(f.at.slice(11, 23))}</td><td>${e(f.kind)}</td><td>${e(f.target)}</td><td>${e(f.detail)}</td><td class="num">${f.affected}/${f.lobbies}</td><td class="num">${ms(f.maxSilenceMs)}</td><td class="num">${ms(f.recoveryMs)}</td><td class="num">${ms(f.afterHealMs)}</td><td>${failed ? `<span class="pill not-met">${e(f.error ?? `${f.unrecovered} not served`)}</span>` : '<span class="pill met">ok</span>'}</td></tr>`;
  });
  return `<table class="faults"><thead><tr><th class="num">#</th><th>UTC</th><th>Fault</th><th>Target</th><th>Detail</th><th class="num">Hit</th><th class="num">Longest silence</th><th class="num">Recovery</th><th class="num">After heal</th><th></th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function help(): string {
  return `<section class="card help"><h2>How to read this</h2>
<p>Players chat and play through the balancer for the whole soak while faults hit the cluster one at a time: a node
SIGKILLed (the launcher starts it again), a node SIGSTOPped then SIGCONTed, the balancer SIGKILLed (the only one: clients
see an outage until the launcher starts it again), Postgres black-holed for the nodes, a node drained (then started
again) and a rebalance. A lobby is <b>hit</b> when its players saw no event for over a second during the fault;
<b>recovery</b> runs from the injection until the last hit lobby got an event again (<b>after heal</b>: from SIGCONT,
unstall or restart); per kind, over the faults that hit a lobby. <b>Silence</b> is each fault's longest lobby
silence, hit or not (a failover under a second shows there). Then every action a player saw acked is looked up in the lobbies' durable log in Postgres:
<b>lost</b> (missing), <b>duplicated</b> (logged twice), <b>misordered</b> (at another seq than acked, or before an
action the same player had acked earlier), <b>gaps</b> (a log skipping a seq). Any of them, or a fault the cluster did
not recover from, is a violation and makes <code>npm run chaos</code> exit non-zero.</p></section>`;
}
