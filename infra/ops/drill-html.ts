import { drillFigures, ms } from "./drill-console.js";
import { renderHistogramSvg } from "./drill-histogram-svg.js";
import { REPORT_CSS } from "./drill-html-style.js";
import type { DrillReport } from "./drill-report.js";
import type { DrillResult, DrillSummary } from "./drill-summary.js";
import { renderTimelineSvg } from "./drill-timeline-svg.js";
import { escapeHtml as e } from "./svg-util.js";

/**
 * The drill report as one self-contained HTML page (inline CSS and SVG, no
 * script, no network): the verdict and key figures first, then the targets,
 * the recovery histogram and each drill's timeline.
 */

export function renderReportHtml(report: DrillReport): string {
  const t = report.totals;
  const many = report.drills.length > 1;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ringside failover drill ${e(report.createdAt)}: ${t.passed ? "targets met" : "targets NOT met"}</title>
<style>${REPORT_CSS}</style></head>
<body><main>
${header(report)}
${figures(t)}
<section class="card"><h2>Targets${many ? ` (all ${report.drills.length} drills)` : ""}</h2>${targetsTable(t)}${warnings(t)}${problems(t)}</section>
${many ? `<section class="card"><h2>Drills</h2>${drillsTable(report.drills)}</section>` : ""}
<section class="card"><h2>Recovery times of the ${t.affected} affected lobbies</h2>${renderHistogramSvg(report.drills.flatMap((d) => d.lobbies))}</section>
${report.drills.map((d) => drillSection(d, many)).join("\n")}
${help()}
</main></body></html>
`;
}

function header(report: DrillReport): string {
  const s = report.settings;
  const victim = s.node ? `victim ${e(s.node)}` : s.random ? "random victim" : "victim: the busiest node";
  return `<header><div>
<h1>Ringside failover drill</h1>
<div class="sub">${e(new Date(report.createdAt).toUTCString())} · balancer ${e(report.balancer)} · ${s.lobbies} lobbies × 2 players ·
warm-up ${s.warmupMs} ms · observed ${s.observeMs} ms after the kill · ${victim} · ${s.repeat} drill${s.repeat === 1 ? "" : "s"}</div>
</div><div class="verdict ${report.totals.passed ? "pass" : "fail"}" data-verdict="${report.totals.passed ? "pass" : "fail"}">
${report.totals.passed ? "✓ all targets met" : "✗ targets not met"}</div></header>`;
}

function figures(t: DrillSummary): string {
  const met = (name: string) => t.targets.find((x) => x.name === name)?.met;
  const card = (metric: string, label: string, value: string, note: string, ok?: boolean) =>
    `<div class="figure${ok === undefined ? "" : ok ? " ok" : " bad"}"><div class="label">${label}</div><div class="value" data-metric="${metric}">${e(value)}</div><div class="note">${note}</div></div>`;
  return `<div class="figures">
${card("p50", "Recovery p50", ms(t.p50Ms), "kill → first event")}
${card("p99", "Recovery p99", ms(t.p99Ms), "target &lt; 2 s", met("recovery p99"))}
${card("max", "Recovery max", ms(t.maxMs), "target &lt; 3 s", met("recovery max"))}
${card("recovered", "Lobbies recovered", `${t.recovered}/${t.affected}`, `${t.unaffected} unaffected`, t.affected > 0 && t.recovered === t.affected)}
${card("acked", "Acked", `${t.ackedBeforeKill} / ${t.ackedAfterKill}`, "before / after the kill")}
${card("lost", "Lost", String(t.durability.lost), "acked, not in the log", met("acked actions lost"))}
${card("duplicated", "Duplicated", String(t.durability.duplicated), "logged twice", met("acked actions duplicated"))}
${card("misordered", "Misordered", String(t.durability.misordered), `${t.durability.gapsInLog} gaps in the log`, t.durability.misordered === 0)}
</div>`;
}

function targetsTable(t: DrillSummary): string {
  const rows = t.targets.map(
    (x) =>
      `<tr class="${x.met ? "met" : "not-met"}" data-target="${e(x.name)}"><td>${e(x.name)}</td><td>${e(x.target)}</td><td class="num">${e(x.actual)}</td><td><span class="pill ${x.met ? "met" : "not-met"}">${x.met ? "met" : "not met"}</span></td></tr>`,
  );
  return `<table class="targets"><thead><tr><th>Target</th><th>Wanted</th><th class="num">Actual</th><th>Result</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function drillsTable(drills: readonly DrillResult[]): string {
  const rows = drills.map(({ summary: s }) => {
    const cells = drillFigures(s).map((c) => e(String(c)));
    const pill = `<span class="pill ${s.passed ? "met" : "not-met"}">${s.passed ? "pass" : "fail"}</span>`;
    return `<tr class="${s.passed ? "met" : "not-met"}">${cells.map((c, i) => `<td${i > 1 ? ' class="num"' : ""}>${c}</td>`).join("")}<td>${pill}</td></tr>`;
  });
  const head = [
    "#",
    "Victim",
    "Recovered",
    "p50",
    "p99",
    "Max",
    "Acked before",
    "Acked after",
    "Lost",
    "Dup.",
    "Misord.",
    "",
  ];
  return `<table class="drills"><thead><tr>${head.map((h, i) => `<th${i > 1 && h ? ' class="num"' : ""}>${h}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function drillSection(d: DrillResult, many: boolean): string {
  const s = d.summary;
  const time = s.killAt.slice(11, 23);
  return `<section class="card drill" data-drill="${s.drill}">
<h2>${many ? `Drill ${s.drill}: ` : ""}${s.victimPid ? "SIGKILL" : "Killed"} ${e(s.victim)} at ${e(time)} UTC</h2>
<p class="sub">${s.affected} of ${s.lobbies} lobbies were on ${e(s.victim)}${s.victimPid ? ` (pid ${s.victimPid})` : ""}; ${s.recovered} recovered,
p50 ${ms(s.p50Ms)}, p99 ${ms(s.p99Ms)}, max ${ms(s.maxMs)}. The other ${s.unaffected} lobbies: ${s.unaffectedReconnected} reconnected,
longest silence ${ms(s.unaffectedLongestSilenceMs)}.</p>
${renderTimelineSvg(s, d.lobbies)}
<div class="legend"><span><i style="background:#f79009"></i>outage: kill → first event from the new owner</span>
<span><i style="background:#fff;border:1.5px solid #b54708;border-radius:50%;width:9px;height:9px"></i>welcome from the new owner</span>
<span><i style="background:#9aa8c7;width:3px"></i>ack before the kill</span><span><i style="background:#2e9e6f;width:3px"></i>ack after the kill</span>
<span><i style="background:#c4320a;width:3px"></i>the kill</span><span><i style="background:#7a5af8;width:3px"></i>targets</span></div>
${lobbyTable(d)}
</section>`;
}

function lobbyTable(d: DrillResult): string {
  const rows = [...d.lobbies]
    .sort((a, b) => Number(b.affected) - Number(a.affected) || a.code.localeCompare(b.code))
    .map(
      (l) =>
        `<tr><td><code>${e(l.code)}</code></td><td>${e(l.node)}</td><td>${l.affected ? "yes" : "no"}</td><td>${e(l.nodeAtEnd ?? "")}</td><td class="num">${l.welcomesAfterKill}</td><td class="num">${ms(l.reconnectMs)}</td><td class="num">${l.affected ? ms(l.recoveryMs) : ""}</td><td class="num">${l.acksBefore}</td><td class="num">${l.acksAfter}</td><td class="num">${l.failed || ""}</td><td class="num">${ms(l.longestSilenceMs)}</td></tr>`,
    );
  return `<details><summary>Every lobby (${d.lobbies.length})</summary><table class="lobbies"><thead><tr><th>Lobby</th><th>Node at kill</th><th>Affected</th><th>Node at end</th><th class="num">Reconnects</th><th class="num">Welcome</th><th class="num">Recovery</th><th class="num">Acks before</th><th class="num">Acks after</th><th class="num">Unanswered</th><th class="num">Longest silence</th></tr></thead><tbody>${rows.join("")}</tbody></table></details>`;
}

function warnings(t: DrillSummary): string {
  if (t.warnings.length === 0) return "";
  return `<div class="warnings"><b>Worth a look</b> (no target, but not right either):<ul>${t.warnings.map((w) => `<li>${e(w)}</li>`).join("")}</ul></div>`;
}

function problems(t: DrillSummary): string {
  const list = t.durability.problems;
  if (list.length === 0) return "";
  const shown = list.slice(0, 50).map((p) => `<li>${e(p)}</li>`);
  const more = list.length > 50 ? `<li>... and ${list.length - 50} more (see the JSON report)</li>` : "";
  return `<h2 style="margin-top:18px">Problems in the durable log</h2><ul class="problems">${shown.join("")}${more}</ul>`;
}

function help(): string {
  return `<section class="card help"><h2>How to read this</h2>
<p><b>Affected</b> lobbies were served by the killed node. <b>Recovery</b> is the time from the SIGKILL until any of the
lobby's players received the first event from the node that took over (a welcome from another node, then an event):
the outage a player actually saw. <b>Lost</b> counts actions the players saw acked that are missing from the durable log in
Postgres (or logged at another seq); <b>duplicated</b>, actions logged more than once; <b>misordered</b>, one player's
sequential actions logged out of order. Targets: p99 &lt; 2 s, max &lt; 3 s, 0 lost, 0 duplicated.</p></section>`;
}
