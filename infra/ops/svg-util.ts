/** Small helpers shared by the report's inline SVG charts. */

export function escapeHtml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A round step for axis ticks, so that about `target` ticks span `range`. */
export function niceStep(range: number, target: number, steps: readonly number[]): number {
  const raw = range / Math.max(1, target);
  return steps.find((s) => s >= raw) ?? steps.at(-1) ?? raw;
}

export function seconds(ms: number): string {
  if (ms === 0) return "0";
  const s = ms / 1000;
  return `${s > 0 ? "+" : ""}${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

export function round1(value: number): string {
  return (Math.round(value * 10) / 10).toString();
}
