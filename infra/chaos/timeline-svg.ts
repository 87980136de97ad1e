import { escapeHtml, niceStep, round1 } from "../ops/svg-util.js";
import type { ChaosFault, ChaosReport } from "./report.js";

/**
 * The soak's timeline: x is time since the load started; on top the acks
 * per second (the cluster kept serving, or did not), below one row per fault
 * kind with a bar per fault from its injection to the moment every hit
 * lobby was served again (the darker part: while the fault was held, e.g.
 * SIGSTOP until SIGCONT). Drawn like the drill's timeline, with its helpers.
 */

const WIDTH = 1040;
const LABEL_W = 130;
const RIGHT_PAD = 24;
const TOP = 16;
const THROUGHPUT_H = 70;
const ROW_H = 28;
const AXIS_H = 40;

export function renderChaosTimelineSvg(report: ChaosReport): string {
  const span = Math.max(1000, report.durationMs);
  const x = (ms: number) => LABEL_W + (Math.min(Math.max(ms, 0), span) / span) * (WIDTH - LABEL_W - RIGHT_PAD);
  const kinds = report.settings.kinds;
  const rowsTop = TOP + THROUGHPUT_H + 10;
  const bottom = rowsTop + kinds.length * ROW_H;
  const rows = kinds.map((kind, i) =>
    kindRow(
      kind,
      report.faults.filter((f) => f.kind === kind),
      rowsTop + i * ROW_H,
      x,
    ),
  );
  return [
    `<svg class="timeline chaos-timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${bottom + AXIS_H}" width="100%" role="img" aria-label="Chaos soak timeline: ${report.faults.length} faults">`,
    axis(span, x, bottom),
    throughput(report.series, x),
    ...rows,
    "</svg>",
  ].join("\n");
}

/** Acks per second as one filled path: thousands of bins stay a light page. */
function throughput(series: ChaosReport["series"], x: (ms: number) => number): string {
  const max = Math.max(1, ...series.acks);
  const base = TOP + THROUGHPUT_H;
  const y = (n: number) => base - (n / max) * (THROUGHPUT_H - 14);
  const points = series.acks.flatMap((n, i) => [
    `L${round1(x(i * series.binMs))} ${round1(y(n))}`,
    `L${round1(x((i + 1) * series.binMs))} ${round1(y(n))}`,
  ]);
  const d = `M${round1(x(0))} ${base}${points.join("")}L${round1(x(series.acks.length * series.binMs))} ${base}Z`;
  return [
    `<g class="throughput">`,
    `<rect class="band rest" x="0" y="${TOP}" width="${WIDTH}" height="${THROUGHPUT_H}"/>`,
    `<text class="row-label" x="8" y="${TOP + 18}">acks/s</text>`,
    `<text class="tick" x="8" y="${TOP + 34}">peak ${max}</text>`,
    `<path class="acks-area" d="${d}"/>`,
    "</g>",
  ].join("");
}

function kindRow(kind: string, faults: readonly ChaosFault[], y: number, x: (ms: number) => number): string {
  return [
    `<g class="kind-row" data-kind="${escapeHtml(kind)}">`,
    `<rect class="band" x="0" y="${y}" width="${WIDTH}" height="${ROW_H}"/>`,
    `<text class="row-label" x="8" y="${y + 18}">${escapeHtml(kind)}</text>`,
    ...faults.map((f) => faultBar(f, y, x)),
    "</g>",
  ].join("");
}

function faultBar(f: ChaosFault, y: number, x: (ms: number) => number): string {
  const failed = f.error !== null || f.unrecovered > 0;
  const end = f.offsetMs + (f.recoveryMs ?? f.settledAt - f.injectedAt);
  const held = f.healedAt === null ? 0 : f.healedAt - f.injectedAt;
  const x0 = x(f.offsetMs);
  const width = Math.max(3, x(end) - x0);
  const heldWidth = Math.min(width, Math.max(0, x(f.offsetMs + held) - x0));
  const title = `#${f.index} ${f.kind} ${f.target} at +${(f.offsetMs / 1000).toFixed(1)} s: ${f.detail}; ${
    failed
      ? `NOT recovered${f.error ? ` (${f.error})` : ""}`
      : `${f.affected}/${f.lobbies} lobbies hit, recovered in ${f.recoveryMs} ms`
  }`;
  return [
    `<g class="fault${failed ? " failed" : ""}" data-index="${f.index}" data-recovery-ms="${f.recoveryMs ?? ""}">`,
    `<title>${escapeHtml(title)}</title>`,
    `<rect class="outage${failed ? " lost" : ""}" x="${round1(x0)}" y="${y + 6}" width="${round1(width)}" height="${ROW_H - 12}" rx="3"/>`,
    heldWidth > 0
      ? `<rect class="held" x="${round1(x0)}" y="${y + 6}" width="${round1(heldWidth)}" height="${ROW_H - 12}" rx="3"/>`
      : "",
    `<text class="bar-value${failed ? " lost" : ""}" x="${round1(x0 + width + 3)}" y="${y + 18}">${failed ? "✗" : `${((f.recoveryMs ?? 0) / 1000).toFixed(1)}s`}</text>`,
    "</g>",
  ].join("");
}

function axis(span: number, x: (ms: number) => number, bottom: number): string {
  const step = niceStep(span, 10, [1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000]);
  const ticks: string[] = [];
  for (let t = 0; t <= span; t += step) {
    const px = round1(x(t));
    ticks.push(
      `<line class="grid" x1="${px}" y1="${TOP}" x2="${px}" y2="${bottom}"/><text class="tick" x="${px}" y="${bottom + 18}" text-anchor="middle">${clock(t)}</text>`,
    );
  }
  return [
    ...ticks,
    `<text class="axis-title" x="${WIDTH - RIGHT_PAD}" y="${bottom + 34}" text-anchor="end">time since the load started</text>`,
  ].join("");
}

function clock(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
