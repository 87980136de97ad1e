import type { LobbyRecovery } from "./drill-recovery.js";
import type { DrillSummary } from "./drill-summary.js";
import { TARGETS } from "./drill-summary.js";
import { escapeHtml, niceStep, round1, seconds } from "./svg-util.js";

/**
 * The drill's timeline: x is time around the kill, one row per affected
 * lobby with its outage (kill -> first event from the new owner) as a bar,
 * its acks as ticks, and one last row with the unaffected lobbies' acks, to
 * show the rest of the cluster kept serving.
 */

const WIDTH = 1040;
const LABEL_W = 190;
const RIGHT_PAD = 24;
const ROW_H = 22;
const TOP = 34;
const AXIS_H = 40;

export function renderTimelineSvg(summary: DrillSummary, lobbies: readonly LobbyRecovery[]): string {
  const affected = lobbies.filter((l) => l.affected).sort(byRecovery);
  const unaffected = lobbies.filter((l) => !l.affected);
  const { from, to } = summary.windowMs;
  const x = (ms: number) => LABEL_W + ((Math.min(Math.max(ms, from), to) - from) / (to - from || 1)) * plotWidth();
  const rows = affected.map((l, i) => lobbyRow(l, TOP + i * ROW_H, x, to));
  const restY = TOP + affected.length * ROW_H;
  if (unaffected.length > 0) rows.push(unaffectedRow(unaffected, restY, x));
  const plotBottom = restY + (unaffected.length > 0 ? ROW_H : 0);
  const height = plotBottom + AXIS_H;
  return [
    `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="Failover timeline of drill ${summary.drill}">`,
    axis(from, to, x, plotBottom),
    targetLine(x(TARGETS.p99Ms), plotBottom, "p99 target", "end", TARGETS.p99Ms <= to),
    targetLine(x(TARGETS.maxMs), plotBottom, "max target", "start", TARGETS.maxMs <= to),
    ...rows,
    `<line class="kill" x1="${round1(x(0))}" y1="${TOP - 14}" x2="${round1(x(0))}" y2="${plotBottom}"/>`,
    `<text class="kill-label" x="${round1(x(0) + 4)}" y="${TOP - 18}">SIGKILL ${escapeHtml(summary.victim)}</text>`,
    "</svg>",
  ].join("\n");
}

function plotWidth(): number {
  return WIDTH - LABEL_W - RIGHT_PAD;
}

function byRecovery(a: LobbyRecovery, b: LobbyRecovery): number {
  return (
    (a.recoveryMs ?? Number.POSITIVE_INFINITY) - (b.recoveryMs ?? Number.POSITIVE_INFINITY) ||
    a.code.localeCompare(b.code)
  );
}

function lobbyRow(l: LobbyRecovery, y: number, x: (ms: number) => number, to: number): string {
  const recovered = l.recoveryMs !== null;
  const end = x(l.recoveryMs ?? to);
  const bar = `<rect class="${recovered ? "outage" : "outage lost"}" x="${round1(x(0))}" y="${y + 5}" width="${round1(Math.max(2, end - x(0)))}" height="${ROW_H - 10}" rx="3"><title>${escapeHtml(l.code)}: ${recovered ? `recovered on ${escapeHtml(l.newNode ?? "?")} after ${l.recoveryMs} ms` : "not recovered"}</title></rect>`;
  const reconnect =
    l.reconnectMs === null
      ? ""
      : `<circle class="welcome" cx="${round1(x(l.reconnectMs))}" cy="${y + ROW_H / 2}" r="3"><title>welcome from ${escapeHtml(l.newNode ?? "?")} after ${l.reconnectMs} ms</title></circle>`;
  const value = recovered ? `${l.recoveryMs} ms` : "not recovered";
  const label = `${escapeHtml(l.code)}  <tspan class="route">${escapeHtml(l.node)} → ${escapeHtml(l.newNode ?? "?")}</tspan>`;
  return [
    `<g class="lobby-row" data-lobby="${escapeHtml(l.code)}" data-recovery-ms="${l.recoveryMs ?? ""}">`,
    `<rect class="band" x="0" y="${y}" width="${WIDTH}" height="${ROW_H}"/>`,
    `<text class="row-label" x="8" y="${y + 15}">${label}</text>`,
    ackTicks(l.ackOffsets, y, x),
    bar,
    reconnect,
    barValue(value, recovered, end, y),
    "</g>",
  ].join("");
}

/** The value right of its bar, or inside its end when the bar reaches the right edge. */
function barValue(value: string, recovered: boolean, end: number, y: number): string {
  const inside = end + 6 + 90 > WIDTH - RIGHT_PAD;
  const cls = `bar-value${recovered ? "" : " lost"}${inside ? " inside" : ""}`;
  const px = inside ? end - 6 : end + 6;
  return `<text class="${cls}" x="${round1(px)}" y="${y + 15}" text-anchor="${inside ? "end" : "start"}">${value}</text>`;
}

function unaffectedRow(lobbies: readonly LobbyRecovery[], y: number, x: (ms: number) => number): string {
  const offsets = lobbies.flatMap((l) => l.ackOffsets);
  return [
    `<g class="unaffected-row">`,
    `<rect class="band rest" x="0" y="${y}" width="${WIDTH}" height="${ROW_H}"/>`,
    `<text class="row-label" x="8" y="${y + 15}">${lobbies.length} unaffected lobbies</text>`,
    ackTicks(offsets, y, x),
    "</g>",
  ].join("");
}

/** One path per colour rather than one element per ack: thousands of acks stay a light page. */
function ackTicks(offsets: readonly number[], y: number, x: (ms: number) => number): string {
  const path = (list: number[]) => list.map((o) => `M${round1(x(o))} ${y + 4}v${ROW_H - 8}`).join("");
  const before = offsets.filter((o) => o < 0);
  const after = offsets.filter((o) => o >= 0);
  return `<path class="ack before" d="${path(before)}"/><path class="ack after" d="${path(after)}"/>`;
}

function axis(from: number, to: number, x: (ms: number) => number, bottom: number): string {
  const step = niceStep(to - from, 10, [100, 250, 500, 1000, 2000, 5000, 10_000]);
  const ticks: string[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
    const px = round1(x(t));
    ticks.push(
      `<line class="grid" x1="${px}" y1="${TOP - 6}" x2="${px}" y2="${bottom}"/><text class="tick" x="${px}" y="${bottom + 18}" text-anchor="middle">${seconds(t)}</text>`,
    );
  }
  return [
    ...ticks,
    `<text class="axis-title" x="${WIDTH - RIGHT_PAD}" y="${bottom + 32}" text-anchor="end">time since the kill</text>`,
  ].join("");
}

/** The two targets' labels sit on opposite sides of their lines, so they never overlap. */
function targetLine(px: number, bottom: number, label: string, side: "start" | "end", visible: boolean): string {
  if (!visible) return "";
  const lx = side === "end" ? px - 4 : px + 4;
  return `<line class="target" x1="${round1(px)}" y1="${TOP - 6}" x2="${round1(px)}" y2="${bottom}"/><text class="target-label" x="${round1(lx)}" y="${TOP - 18}" text-anchor="${side}">${label}</text>`;
}
