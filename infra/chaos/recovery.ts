/**
 * Recovery per fault, from what the players saw: for each lobby the longest
 * silence (no event at any of its players) from the fault's injection until
 * the runner moved on, and when it ended. A lobby silent for longer than AFFECTED_SILENCE_MS was hit by the
 * fault; the fault's recovery time runs from its injection until the last
 * hit lobby got an event again. Pure, so the numbers can be tested.
 */

export const FAULT_KINDS = ["node-kill", "node-stop", "balancer-kill", "pg-stall", "drain", "rebalance"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Players act every 40-90 ms: a second of silence is an outage, not a slow turn. */
export const AFFECTED_SILENCE_MS = 1000;

export type FaultRecord = {
  index: number;
  kind: FaultKind;
  /** The member it hit (node or balancer), or "postgres" / "cluster". */
  target: string;
  injectedAt: number;
  /** When the runner undid it (SIGCONT, unstall, the drained node started again); null: it heals by itself. */
  healedAt: number | null;
  /** When the cluster was healthy again (every node active and on the ring, the balancer ready). */
  healthyAt: number | null;
  /** When every lobby had an event after healthyAt: the window closes here. */
  settledAt: number;
  /** What the fault held, e.g. "stopped 3200 ms" or "4 lobbies handed off". */
  detail: string;
  /** Set when the cluster did not recover within the runner's bound (a violation). */
  error: string | null;
};

export type LobbyActivity = { code: string; eventTimes: readonly number[] };

export type LobbySilence = { code: string; silenceMs: number; endedAt: number | null };

export type FaultRecovery = {
  lobbies: number;
  affected: number;
  /** Affected lobbies with no event at all until the window closed. */
  unrecovered: number;
  /** Injection -> the last affected lobby's first event after its silence; 0 when none was affected. */
  recoveryMs: number | null;
  /** Heal -> that event, for faults the runner undid. */
  afterHealMs: number | null;
  maxSilenceMs: number;
  p50SilenceMs: number;
  /** The hit lobbies' codes, longest silence first: where to look in the cluster's log. */
  hitLobbies: string[];
};

/** The longest silence of one lobby in [from, to] (the first one counted from `from`). */
export function lobbySilence(lobby: LobbyActivity, from: number, to: number): LobbySilence {
  const times = [...lobby.eventTimes].sort((a, b) => a - b);
  let i = times.findIndex((t) => t > from);
  if (i === -1) i = times.length;
  // Silence counts from the injection: a lull before it is not the fault's doing.
  let prev = from;
  let longest: LobbySilence = { code: lobby.code, silenceMs: 0, endedAt: null };
  for (; i < times.length && prev < to; i++) {
    const t = times[i] as number;
    if (t - prev > longest.silenceMs) longest = { code: lobby.code, silenceMs: t - prev, endedAt: t };
    prev = t;
  }
  if (prev < to && to - prev > longest.silenceMs) longest = { code: lobby.code, silenceMs: to - prev, endedAt: null };
  return longest;
}

export function faultRecovery(fault: FaultRecord, lobbies: readonly LobbyActivity[]): FaultRecovery {
  const silences = lobbies.map((l) => lobbySilence(l, fault.injectedAt, fault.settledAt));
  const affected = silences.filter((s) => s.silenceMs > AFFECTED_SILENCE_MS);
  const unrecovered = affected.filter((s) => s.endedAt === null).length;
  const ends = affected.map((s) => s.endedAt ?? Number.POSITIVE_INFINITY);
  const recoveredAt = affected.length === 0 ? fault.injectedAt : Math.max(...ends);
  const finite = Number.isFinite(recoveredAt);
  const sorted = silences.map((s) => s.silenceMs).sort((a, b) => a - b);
  return {
    lobbies: lobbies.length,
    affected: affected.length,
    unrecovered,
    recoveryMs: finite ? recoveredAt - fault.injectedAt : null,
    afterHealMs: finite && fault.healedAt !== null ? Math.max(0, recoveredAt - fault.healedAt) : null,
    maxSilenceMs: sorted.at(-1) ?? 0,
    p50SilenceMs: sorted[Math.floor((sorted.length - 1) / 2)] ?? 0,
    hitLobbies: [...affected].sort((a, b) => b.silenceMs - a.silenceMs).map((s) => s.code),
  };
}

/** Acks per bin over the run, for the timeline's throughput strip. */
export function ackSeries(ackTimes: readonly number[], from: number, to: number, binMs: number): number[] {
  const bins = Array.from({ length: Math.max(1, Math.ceil((to - from) / binMs)) }, () => 0);
  for (const t of ackTimes) {
    const i = Math.floor((t - from) / binMs);
    if (i >= 0 && i < bins.length) bins[i] = (bins[i] as number) + 1;
  }
  return bins;
}
