import { createHash } from "node:crypto";
import { DEFAULT_VNODES, type RingMember } from "../shared/ring.js";

/**
 * The ring as a picture for operators: each node's arcs of the hash circle in
 * its colour, and a legend. The points are computed the way hashring 3.2
 * builds its continuum (ketama: md5 of `id-i`, four points per digest, point
 * count by weight share), so the picture shows the placement Ring.owner uses;
 * a unit test checks the two agree.
 */

export type RingPoint = { value: number; id: string };

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"];
const FULL_CIRCLE = 2 ** 32;

/** The ring's points in ascending order; a key belongs to the first point at or after its hash. */
export function ringPoints(members: readonly RingMember[], vnodes = DEFAULT_VNODES): RingPoint[] {
  const live = members.filter((m) => m.weight > 0);
  const total = live.reduce((sum, m) => sum + m.weight, 0);
  const points: RingPoint[] = [];
  for (const m of live) {
    const count = Math.floor((m.weight / total) * vnodes * live.length);
    for (let i = 0; i < count; i++) {
      const x = createHash("md5").update(`${m.id}-${i}`).digest();
      for (let j = 0; j < 4; j++) points.push({ value: x.readUInt32LE(j * 4), id: m.id });
    }
  }
  return points.sort((a, b) => a.value - b.value);
}

/** Where a key lands among the points (md5, first four bytes little-endian, as hashring reads them). */
export function keyPosition(key: string): number {
  return createHash("md5").update(key).digest().readUInt32LE(0);
}

export type Legend = { id: string; state: string; lobbies: number | null };

export function renderRingSvg(members: readonly RingMember[], legend: readonly Legend[], vnodes?: number): string {
  const points = ringPoints(members, vnodes);
  const colour = new Map(legend.map((l, i) => [l.id, PALETTE[i % PALETTE.length] ?? "#000"]));
  const share = new Map<string, number>();
  const arcs: string[] = [];
  // The first arc wraps around: it starts at the last point, one full turn back.
  let prev = (points.at(-1)?.value ?? 0) - FULL_CIRCLE;
  let runStart = prev;
  for (let i = 0; i < points.length; i++) {
    const p = points[i] as RingPoint;
    share.set(p.id, (share.get(p.id) ?? 0) + (p.value - prev));
    prev = p.value;
    // Merge runs of one owner into one arc: a few hundred paths instead of thousands.
    if (points[i + 1]?.id === p.id) continue;
    arcs.push(arcPath(runStart, p.value, colour.get(p.id) ?? "#000"));
    runStart = p.value;
  }
  const rows = legend.map((l, i) => {
    const pct = (((share.get(l.id) ?? 0) / FULL_CIRCLE) * 100).toFixed(1);
    const lobbies = l.lobbies === null ? "" : `, ${l.lobbies} lobbies`;
    const y = 30 + i * 22;
    return `<rect x="420" y="${y - 12}" width="14" height="14" fill="${colour.get(l.id)}"/><text x="440" y="${y}">${escapeXml(l.id)} (${escapeXml(l.state)}, ${pct}% of ring${lobbies})</text>`;
  });
  const height = Math.max(400, 40 + legend.length * 22);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="760" height="${height}" viewBox="0 0 760 ${height}" font-family="sans-serif" font-size="13">`,
    `<title>Ringside ring: ${members.length} node(s)</title>`,
    `<circle cx="200" cy="200" r="150" fill="none" stroke="#ddd" stroke-width="28"/>`,
    ...arcs,
    `<text x="200" y="205" text-anchor="middle">${members.length} node(s)</text>`,
    ...rows,
    "</svg>",
  ].join("\n");
}

function arcPath(from: number, to: number, colour: string): string {
  if (to - from >= FULL_CIRCLE)
    return `<circle cx="200" cy="200" r="150" fill="none" stroke="${colour}" stroke-width="28"/>`;
  const a0 = (from / FULL_CIRCLE) * 2 * Math.PI - Math.PI / 2;
  const a1 = (to / FULL_CIRCLE) * 2 * Math.PI - Math.PI / 2;
  const [x0, y0, x1, y1] = [Math.cos(a0), Math.sin(a0), Math.cos(a1), Math.sin(a1)].map((v) =>
    (200 + 150 * v).toFixed(2),
  );
  const large = a1 - a0 > Math.PI ? 1 : 0;
  return `<path d="M${x0} ${y0} A150 150 0 ${large} 1 ${x1} ${y1}" fill="none" stroke="${colour}" stroke-width="28"/>`;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
