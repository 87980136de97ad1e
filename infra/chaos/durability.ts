import type { AckRecord } from "../ops/game-traffic.js";

/**
 * The soak's verdict on durability: every action a player saw acked, checked
 * against the lobbies' log in Postgres. Pure (the log is read elsewhere), so
 * a unit test can feed it a broken log and see each fault named.
 *
 * - lost: acked, but not in the log;
 * - duplicated: one player's action id logged more than once;
 * - misordered: logged at another seq than it was acked with, or logged
 *   before an action the same player sent (and had acked) earlier;
 * - gaps: a lobby's log skips a seq.
 */

/** An action the soak's players saw acked: the drill's record of one. */
export type AckedAction = AckRecord;

export type LoggedEvent = { code: string; seq: number; playerId: string | null; actionId: string | null };

export type DurabilityVerdict = {
  acked: number;
  logged: number;
  lost: number;
  duplicated: number;
  misordered: number;
  gaps: number;
  problems: string[];
};

export function checkDurability(acked: readonly AckedAction[], log: readonly LoggedEvent[]): DurabilityVerdict {
  const problems: string[] = [];
  const gaps = countGaps(log, problems);
  const logged = seqsByAction(log);
  let duplicated = 0;
  for (const [key, seqs] of logged) {
    if (seqs.length < 2) continue;
    duplicated++;
    problems.push(`duplicated: ${key} logged ${seqs.length} times (seqs ${seqs.join(", ")})`);
  }
  let lost = 0;
  let misordered = 0;
  for (const a of acked) {
    const seqs = logged.get(keyOf(a));
    if (!seqs) {
      lost++;
      problems.push(`lost: ${keyOf(a)} acked as seq ${a.seq} is not in the log`);
    } else if (!seqs.includes(a.seq)) {
      misordered++;
      problems.push(`misordered: ${keyOf(a)} acked as seq ${a.seq} but logged at ${seqs.join(", ")}`);
    }
  }
  misordered += countOutOfSendOrder(acked, logged, problems);
  return { acked: acked.length, logged: log.length, lost, duplicated, misordered, gaps, problems };
}

function keyOf(a: { code: string; playerId: string | null; actionId: string | null }): string {
  return `${a.code}/${a.playerId}/${a.actionId}`;
}

function seqsByAction(log: readonly LoggedEvent[]): Map<string, number[]> {
  const byAction = new Map<string, number[]>();
  for (const row of log) {
    if (row.actionId === null) continue;
    const key = keyOf(row);
    const seqs = byAction.get(key);
    if (seqs) seqs.push(row.seq);
    else byAction.set(key, [row.seq]);
  }
  return byAction;
}

/** Each lobby's log must run 1, 2, 3, ... with no hole. */
function countGaps(log: readonly LoggedEvent[], problems: string[]): number {
  const byLobby = new Map<string, number[]>();
  for (const row of log) byLobby.set(row.code, [...(byLobby.get(row.code) ?? []), row.seq]);
  let gaps = 0;
  for (const [code, seqs] of byLobby) {
    let expected = 1;
    for (const seq of [...seqs].sort((a, b) => a - b)) {
      if (seq > expected) {
        gaps++;
        problems.push(`gap: ${code} log jumps from ${expected - 1} to ${seq}`);
      }
      expected = seq + 1;
    }
  }
  return gaps;
}

/**
 * One player's actions sent one after another (the next only once the one
 * before was acked) must be logged in that order. Actions sent together may
 * be logged either way round.
 */
function countOutOfSendOrder(acked: readonly AckedAction[], logged: Map<string, number[]>, problems: string[]): number {
  const byPlayer = new Map<string, AckedAction[]>();
  for (const a of acked) {
    const key = `${a.code}/${a.playerId}`;
    byPlayer.set(key, [...(byPlayer.get(key) ?? []), a]);
  }
  let misordered = 0;
  for (const actions of byPlayer.values()) misordered += outOfOrder(actions, logged, problems);
  return misordered;
}

/** Sweeps the player's actions by send time, knowing the highest logged seq among those acked before each send. */
function outOfOrder(actions: readonly AckedAction[], logged: Map<string, number[]>, problems: string[]): number {
  const withSeq = actions
    .map((action) => ({ action, seq: logged.get(keyOf(action))?.[0] }))
    .filter((x): x is { action: AckedAction; seq: number } => x.seq !== undefined);
  const bySend = [...withSeq].sort((x, y) => x.action.sentAt - y.action.sentAt);
  const byAck = [...withSeq].sort((x, y) => x.action.ackedAt - y.action.ackedAt);
  let misordered = 0;
  let next = 0;
  let before: { action: AckedAction; seq: number } | null = null;
  for (const cur of bySend) {
    while (next < byAck.length && (byAck[next]?.action.ackedAt ?? 0) <= cur.action.sentAt) {
      const done = byAck[next++] as { action: AckedAction; seq: number };
      if (!before || done.seq > before.seq) before = done;
    }
    if (before && before !== cur && cur.seq <= before.seq) {
      misordered++;
      problems.push(
        `misordered: ${keyOf(cur.action)} (seq ${cur.seq}) was sent after ${before.action.actionId} (seq ${before.seq}) was acked`,
      );
    }
  }
  return misordered;
}
