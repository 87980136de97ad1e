import { percentile } from "./bench-kit.js";
import { cpuSeconds, postgresCpuSeconds } from "./proc-stats.js";

/**
 * What bench:connections reads about its reconnect storm from the processes
 * themselves: CPU seconds per group, the survivors' lobby loads (from their
 * logs) and the balancers' upgrade outcomes (from their /metrics). Apart
 * from connections.bench.ts, which runs the storm and prints these.
 */

/** CPU seconds per group of processes (minus `before`, when given). Postgres: all of it (see postgresCpuSeconds). */
export function cpuOf(groups: Record<string, number[]>, before?: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pids] of Object.entries(groups)) {
    const now = name === "postgres" ? postgresCpuSeconds() : pids.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
    out[name] = now - (before?.[name] ?? 0);
  }
  return out;
}

/** How many lobbies a survivor loaded after the kill, by trigger, how long the loads took and when they ended. */
export function loadSummary(lines: string[], killedAt: number): string {
  const loads = lines
    .filter((l) => l.includes('"lobby loaded"'))
    .map((l) => JSON.parse(l) as { time: string; trigger: string; ms: number })
    .map((l) => ({ ...l, at: Date.parse(l.time) - killedAt }))
    .filter((l) => l.at >= 0);
  const ms = loads.map((l) => l.ms).sort((a, b) => a - b);
  const at = loads.map((l) => l.at).sort((a, b) => a - b);
  const triggers = new Map<string, number>();
  for (const l of loads) triggers.set(l.trigger, (triggers.get(l.trigger) ?? 0) + 1);
  return (
    `${loads.length} (${[...triggers].map(([t, n]) => `${t} ${n}`).join(", ")}); ` +
    `ms p50 ${percentile(ms, 50)} max ${ms.at(-1) ?? 0}; at p50 ${percentile(at, 50)} last ${at.at(-1) ?? 0} ms`
  );
}

/** The balancer's upgrade results and refused holds, from its /metrics, as one line. */
export async function upgradeOutcomes(url: string): Promise<string> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const wanted = /^ringside_balancer_(ws_upgrades_total|refused_holds_total)\{([^}]*)\} (\S+)$/gm;
  return [...text.matchAll(wanted)]
    .map((m) => `${m[1]?.replace("_total", "")}{${(m[2] ?? "").replace(/,?(role|instance_id)="[^"]*"/g, "")}} ${m[3]}`)
    .join(", ");
}
