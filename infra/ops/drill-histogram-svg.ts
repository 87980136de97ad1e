import type { LobbyRecovery } from "./drill-recovery.js";
import { TARGETS } from "./drill-summary.js";
import { niceStep, round1 } from "./svg-util.js";

/**
 * How recovery times spread: one bar per time bucket, the targets as
 * vertical lines, and lobbies that never recovered as a separate red bar at
 * the right (they have no time to bucket).
 */

const WIDTH = 1040;
const HEIGHT = 230;
const LEFT = 48;
const RIGHT = 96;
const TOP = 24;
const BOTTOM = 44;

export function renderHistogramSvg(lobbies: readonly LobbyRecovery[]): string {
  const affected = lobbies.filter((l) => l.affected);
  const times = affected.map((l) => l.recoveryMs).filter((t): t is number => t !== null);
  const never = affected.length - times.length;
  const span = Math.max(TARGETS.maxMs + 500, ...times.map((t) => t + 1));
  const bin = niceStep(span, 36, [50, 100, 200, 250, 500, 1000, 2000, 5000]);
  const bins = Math.ceil(span / bin);
  const counts = Array.from({ length: bins }, () => 0);
  for (const t of times) {
    const i = Math.min(bins - 1, Math.floor(t / bin));
    counts[i] = (counts[i] ?? 0) + 1;
  }
  const top = Math.max(1, never, ...counts);
  const plotW = WIDTH - LEFT - RIGHT;
  const plotH = HEIGHT - TOP - BOTTOM;
  const x = (ms: number) => LEFT + (ms / (bins * bin)) * plotW;
  const y = (n: number) => TOP + plotH - (n / top) * plotH;
  const bars = counts.map((n, i) =>
    n === 0
      ? ""
      : `<rect class="bin" x="${round1(x(i * bin) + 1)}" y="${round1(y(n))}" width="${round1(Math.max(1, x(bin) - LEFT - 2))}" height="${round1(TOP + plotH - y(n))}"><title>${i * bin}-${(i + 1) * bin} ms: ${n} lobbies</title></rect><text class="bin-count" x="${round1(x((i + 0.5) * bin))}" y="${round1(y(n) - 4)}" text-anchor="middle">${n}</text>`,
  );
  return [
    `<svg class="histogram" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" role="img" aria-label="Histogram of recovery times">`,
    yAxis(top, y),
    xAxis(bins * bin, x, TOP + plotH),
    ...[TARGETS.p99Ms, TARGETS.maxMs].map(
      // p99's label left of its line, max's right of it: they never overlap.
      (t, i) =>
        `<line class="target" x1="${round1(x(t))}" y1="${TOP - 8}" x2="${round1(x(t))}" y2="${TOP + plotH}"/><text class="target-label" x="${round1(x(t) + (i === 0 ? -4 : 4))}" y="${TOP - 10}" text-anchor="${i === 0 ? "end" : "start"}">${i === 0 ? "p99" : "max"} target</text>`,
    ),
    ...bars,
    neverBar(never, y, TOP + plotH),
    "</svg>",
  ].join("\n");
}

function xAxis(span: number, x: (ms: number) => number, base: number): string {
  const step = niceStep(span, 12, [250, 500, 1000, 2000, 5000, 10_000]);
  const ticks: string[] = [`<line class="axis" x1="${LEFT}" y1="${base}" x2="${WIDTH - RIGHT}" y2="${base}"/>`];
  for (let t = 0; t <= span; t += step) {
    ticks.push(`<text class="tick" x="${round1(x(t))}" y="${base + 16}" text-anchor="middle">${t / 1000} s</text>`);
  }
  ticks.push(
    `<text class="axis-title" x="${WIDTH - RIGHT}" y="${base + 36}" text-anchor="end">recovery time (kill → first event from the new owner)</text>`,
  );
  return ticks.join("");
}

function yAxis(top: number, y: (n: number) => number): string {
  const step = Math.max(1, Math.ceil(top / 4));
  const lines: string[] = [];
  for (let n = 0; n <= top; n += step) {
    lines.push(
      `<line class="grid" x1="${LEFT}" y1="${round1(y(n))}" x2="${WIDTH - RIGHT}" y2="${round1(y(n))}"/><text class="tick" x="${LEFT - 8}" y="${round1(y(n) + 4)}" text-anchor="end">${n}</text>`,
    );
  }
  lines.push(`<text class="axis-title" x="${LEFT - 36}" y="${TOP - 10}">lobbies</text>`);
  return lines.join("");
}

function neverBar(never: number, y: (n: number) => number, base: number): string {
  const left = WIDTH - RIGHT + 24;
  const label = `<text class="tick" x="${left + 24}" y="${base + 16}" text-anchor="middle">never</text>`;
  if (never === 0) return label;
  return `${label}<rect class="bin lost" x="${left}" y="${round1(y(never))}" width="48" height="${round1(base - y(never))}"><title>${never} lobbies never recovered</title></rect><text class="bin-count" x="${left + 24}" y="${round1(y(never) - 4)}" text-anchor="middle">${never}</text>`;
}
