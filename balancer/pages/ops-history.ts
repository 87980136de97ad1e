import { clockTime, el } from "./dom.js";
import type { HistoryEntry } from "./ops-api.js";

/**
 * Recent cluster history, newest first (as /admin/history returns it): node
 * deaths, lobby claims after a death, handoffs after a drain or rebalance.
 */

const KIND_LABELS: Record<string, string> = {
  node_dead: "node died",
  lobby_claimed: "lobby claimed",
  handoff: "handoff",
};

export function renderHistory(list: HTMLElement, entries: HistoryEntry[]): void {
  const newest = String(entries[0]?.id ?? "none");
  if (list.dataset.newest === newest) return; // unchanged since the last refresh
  list.dataset.newest = newest;
  if (entries.length === 0) {
    list.replaceChildren(el("li", { class: "empty" }, "Nothing yet: node deaths, claims and handoffs show up here."));
    return;
  }
  list.replaceChildren(...entries.map(historyItem));
}

function historyItem(entry: HistoryEntry): HTMLLIElement {
  const subject = [entry.nodeId, entry.code ? `lobby ${entry.code}` : null].filter(Boolean).join(" · ");
  return el(
    "li",
    { class: "history-item", "data-kind": entry.kind },
    el("time", { datetime: entry.at }, clockTime(entry.at)),
    el("span", { class: `kind kind-${entry.kind}` }, KIND_LABELS[entry.kind] ?? entry.kind),
    el("span", { class: "subject" }, subject),
    el("span", { class: "detail muted" }, describeDetail(entry.detail)),
  );
}

/** {"to":"n2","epoch":3} -> "to n2, epoch 3" */
function describeDetail(detail: unknown): string {
  if (typeof detail !== "object" || detail === null) return "";
  return Object.entries(detail)
    .map(([key, value]) => `${key} ${typeof value === "object" ? JSON.stringify(value) : String(value)}`)
    .join(", ");
}
