import { Ring } from "../../shared/ring.js";
import type { AdminNode, AdminRing, HistoryEntry } from "./admin-client.js";
import { colour, textTable } from "./text-table.js";

/**
 * Terminal views of the admin API's answers: the ring with each node's
 * share drawn as a bar, the node table, and the history.
 */

const BAR_WIDTH = 30;
const SAMPLES = 20_000;

export function formatRing(ring: AdminRing): string {
  const share = ringShares(ring.members);
  const rows = ring.nodes.map((n) => {
    const part = share.get(n.id);
    return [n.id, stateText(n), n.weight, n.lobbies, part === undefined ? colour.dim("off the ring") : shareBar(part)];
  });
  const exceptions = ring.exceptions.length;
  return [
    `${colour.bold("ring")} ${ring.fingerprint || "(empty: no active node, every lobby request fails)"}`,
    `  as balancer ${ring.balancer} routes: ${exceptions} lobby(s) pinned off their ring owner (exceptions)`,
    "",
    textTable(["NODE", "STATE", "WEIGHT", "LOBBIES", "SHARE OF NEW LOBBIES"], rows),
  ].join("\n");
}

/** `█████░░░░░ 33.9%`: a node's share of the hash circle as a bar. */
function shareBar(part: number): string {
  const filled = Math.round(part * BAR_WIDTH);
  return `${"█".repeat(filled)}${colour.dim("░".repeat(BAR_WIDTH - filled))} ${(part * 100).toFixed(1)}%`;
}

/**
 * Each member's share of lobby codes, found by placing sample codes with the
 * same Ring the balancers use, so the figures cannot disagree with routing.
 */
export function ringShares(members: readonly { id: string; weight: number }[]): Map<string, number> {
  const ring = new Ring(members);
  const share = new Map<string, number>();
  for (let i = 0; i < SAMPLES; i++) {
    const owner = ring.owner(sampleCode(i));
    if (owner) share.set(owner, (share.get(owner) ?? 0) + 1 / SAMPLES);
  }
  return share;
}

/** Deterministic, evenly spread stand-ins for lobby codes. */
function sampleCode(i: number): string {
  return `S${i.toString(36).toUpperCase().padStart(5, "0")}`;
}

export function formatNodes(nodes: AdminNode[]): string {
  const rows = nodes.map((n) => [
    n.id,
    stateText(n),
    n.weight,
    n.lobbies,
    n.incarnation,
    n.suspect ? `suspect (${n.probeFailures} failed probes)` : "ok",
    n.url,
    n.startedAt,
  ]);
  return textTable(["NODE", "STATE", "WEIGHT", "LOBBIES", "INCARNATION", "PROBE", "URL", "STARTED"], rows);
}

export function formatHistory(entries: HistoryEntry[]): string {
  if (entries.length === 0) return "  (no history yet)";
  const rows = [...entries]
    .reverse()
    .map((e) => [e.at, e.kind, e.nodeId ?? "", e.code ?? "", JSON.stringify(e.detail ?? {})]);
  return textTable(["AT", "KIND", "NODE", "LOBBY", "DETAIL"], rows);
}

function stateText(n: AdminNode): string {
  const text = n.leaseValid || n.state === "dead" ? n.state : `${n.state}, lease expired`;
  if (n.state === "active" && n.leaseValid) return colour.green(text);
  return n.state === "dead" || !n.leaseValid ? colour.red(text) : text;
}
