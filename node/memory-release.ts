import v8 from "node:v8";
import vm from "node:vm";

/**
 * Hands memory back after many lobbies left it at once. V8 starts a major
 * collection on allocation pressure, and an idle node allocates almost
 * nothing: measured, a node that unloaded 20,000 lobbies still held 200 MB of
 * their garbage 30 s later, and 24 MB after one collection. So after a mass
 * unload the node asks for one major collection, run concurrently
 * (`execution: "async"`: no long pause for the lobbies still playing), and
 * at most one per `delayMs`.
 */

type Gc = (options?: { type: "major" | "minor"; execution: "sync" | "async" }) => void;

/** Lobbies unloaded in one pass from which a collection is worth asking for. */
export const MASS_UNLOAD = 200;

function exposeGc(): Gc | null {
  try {
    // --expose-gc set at run time reaches only contexts made afterwards: the gc function is taken from one.
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as unknown;
    return typeof gc === "function" ? (gc as Gc) : null;
  } catch {
    return null;
  }
}

export class MemoryRelease {
  private pending: NodeJS.Timeout | null = null;
  private readonly gc: Gc | null;

  constructor(
    private readonly delayMs = 1000,
    gc: Gc | null = exposeGc(),
  ) {
    this.gc = gc;
  }

  /** `count` lobbies just left memory: if many, collect soon (coalesced with any collection already asked for). */
  afterUnload(count: number): void {
    if (count < MASS_UNLOAD || !this.gc || this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      this.gc?.({ type: "major", execution: "async" });
    }, this.delayMs);
    this.pending.unref();
  }
}
