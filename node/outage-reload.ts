import type { Logger } from "../shared/log.js";
import type { LobbyRegistry } from "./lobby-registry.js";
import { runLimited } from "./run-limited.js";

/** Loads at once, so a node with many lobbies takes them back in parallel but not all at once. */
const PARALLEL_LOADS = 16;
/** A commit that failed this soon before a fence was most likely the same outage. */
const RECENT_FAILURE_MS = 10_000;

/**
 * The lobbies a Postgres outage took from this node: those it unloaded when
 * it fenced itself, and those whose commit failed shortly before. When the
 * node serves again it loads them back at once (or learns that another node
 * claimed them), so players who reconnect find their lobby ready instead of
 * each waiting for a load.
 */
export class OutageReload {
  private readonly lost = new Set<string>();
  private readonly failedAt = new Map<string, number>();

  constructor(
    private readonly registry: LobbyRegistry,
    private readonly log: Logger,
  ) {}

  /** A lobby's commit failed on a database error (not a lost epoch). */
  commitFailed(code: string): void {
    this.failedAt.delete(code);
    this.failedAt.set(code, performance.now());
  }

  /** The node fenced itself and is about to unload these lobbies. */
  fenced(codes: Iterable<string>): void {
    for (const code of codes) this.lost.add(code);
    const since = performance.now() - RECENT_FAILURE_MS;
    for (const [code, at] of this.failedAt) if (at >= since) this.lost.add(code);
    this.failedAt.clear();
  }

  /** The node serves again: load back what the outage took. */
  async reload(): Promise<void> {
    // Commits refused while fenced failed too (after the fence was recorded).
    this.fenced([]);
    const codes = [...this.lost];
    this.lost.clear();
    if (codes.length === 0) return;
    let loaded = 0;
    await runLimited(codes, PARALLEL_LOADS, async (code) => {
      try {
        await this.registry.load(code);
        loaded++;
      } catch {
        // Claimed by another node meanwhile, or not servable yet: its players load it on their next try.
      }
    });
    this.log.info({ lobbies: codes.length, loaded }, "lobbies loaded back after the outage");
  }
}
