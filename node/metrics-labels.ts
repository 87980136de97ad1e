import { CloseCode } from "../shared/wire.js";
import type { StoredEntry } from "./lobby/log-entry.js";
import type { SubmitResult } from "./lobby-registry.js";

/**
 * Label values of the node's counters, as pure functions: every label has a
 * small, fixed set of values, so a client cannot grow the metrics by sending
 * odd close codes, and an alert can rely on the series existing.
 */

export type ActionResult = "acked" | "refused" | "duplicate" | "rate_limited" | "dropped";
export const ACTION_RESULTS: readonly ActionResult[] = ["acked", "refused", "duplicate", "rate_limited", "dropped"];

/** drain: an operator's drain; sigterm: the process was asked to stop; failover_claim: a dead node's lobby, claimed at once. */
export type HandoffReason = "drain" | "rebalance" | "sigterm" | "failover_claim";
export const HANDOFF_REASONS: readonly HandoffReason[] = ["drain", "rebalance", "sigterm", "failover_claim"];

/** What a player's action came to, as the socket hub sees it; null when the answer comes later (queued). */
export function actionResultOf(result: SubmitResult | "rate_limited"): ActionResult | null {
  if (result === "rate_limited") return "rate_limited";
  // Answered at once with a seq: the action was durable already, so this is a re-send acked again.
  if (result.ok === true) return "duplicate";
  if (result.ok === false) return "refused";
  if (result.ok === "dropped") return "dropped";
  return null;
}

/**
 * Durable entries that answer a player's action over a WebSocket (their
 * sender got an ack): chat, game moves, leaving. Joins and creates are HTTP
 * answers, timers have no sender.
 */
export function isAckedAction(entry: StoredEntry): boolean {
  return entry.kind === "chat" || entry.kind === "game" || entry.kind === "player_left";
}

/** Close codes a server or a well-behaved client uses keep their number; the rest are "other". */
const KNOWN_CLOSE_CODES = new Set<number>([1000, 1001, 1005, 1006, 1011, 1012, 1013, ...Object.values(CloseCode)]);

export function closeCodeLabel(code: number): string {
  return KNOWN_CLOSE_CODES.has(code) ? String(code) : "other";
}

export const CLOSE_CODE_LABELS: readonly string[] = [...KNOWN_CLOSE_CODES].map(String);
