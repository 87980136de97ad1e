import { generateLobbyCode } from "../../shared/lobby-code.js";
import { Ring, type RingMember } from "../../shared/ring.js";
import { printTable, verdict } from "./bench-kit.js";

const RING_CODES = 100_000;
const RING_SIZES = [3, 5, 10];

/**
 * Placement quality of shared/ring.ts: the busiest node's lobbies over the
 * mean (balance), and the share of codes that move when one node joins, over
 * the ideal 1/(N+1) (stability). Larger vnode counts are tried only when 160
 * misses the balance target, so the lead can pick a default.
 */
export function ringQuality(): void {
  const codes = Array.from({ length: RING_CODES }, () => generateLobbyCode());
  const members = (n: number): RingMember[] =>
    Array.from({ length: n }, (_, i) => ({ id: `node-${i + 1}`, weight: 1 }));
  const rows: (string | number)[][] = [];
  for (const vnodes of [160, 320, 640, 1280]) {
    let balanced = true;
    for (const n of RING_SIZES) {
      const before = new Ring(members(n), vnodes);
      const after = new Ring(members(n + 1), vnodes);
      const counts = new Map<string, number>();
      let moved = 0;
      for (const code of codes) {
        const owner = before.owner(code) ?? "";
        counts.set(owner, (counts.get(owner) ?? 0) + 1);
        if (after.owner(code) !== owner) moved++;
      }
      const maxOverMean = Math.max(...counts.values()) / (RING_CODES / n);
      const movedShare = moved / RING_CODES;
      const ideal = 1 / (n + 1);
      balanced &&= maxOverMean <= 1.1;
      rows.push([
        String(vnodes),
        String(n),
        maxOverMean.toFixed(3),
        verdict(maxOverMean <= 1.1),
        `${(movedShare * 100).toFixed(2)}% (ideal ${(ideal * 100).toFixed(2)}%)`,
        `${(movedShare / ideal).toFixed(3)} x`,
        verdict(movedShare <= 1.1 * ideal),
      ]);
    }
    if (balanced) break;
  }
  console.log(`\nRing quality (shared/ring.ts, ${RING_CODES.toLocaleString("en-US")} random codes)`);
  printTable(
    ["vnodes", "nodes N", "max/mean", "<= 1.10", "moved when N+1 joins", "moved / ideal", "<= 1.1 x ideal"],
    rows,
  );
}
