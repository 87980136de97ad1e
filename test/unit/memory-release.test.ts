import { describe, expect, it } from "vitest";
import { MASS_UNLOAD, MemoryRelease } from "../../node/memory-release.js";

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("MemoryRelease", () => {
  it("asks for one concurrent major collection after a mass unload, none after a few lobbies", async () => {
    const calls: unknown[] = [];
    const release = new MemoryRelease(10, (options) => calls.push(options));
    release.afterUnload(MASS_UNLOAD - 1);
    await tick(30);
    expect(calls).toEqual([]);
    release.afterUnload(MASS_UNLOAD);
    release.afterUnload(5_000);
    await tick(30);
    expect(calls).toEqual([{ type: "major", execution: "async" }]);
  });

  it("gets V8's gc at run time, and the collection hands the garbage back", async () => {
    let garbage: object[] | null = Array.from({ length: 300_000 }, (_, i) => ({ i, text: `lobby ${i}` }));
    const before = process.memoryUsage().heapUsed;
    garbage = null;
    new MemoryRelease(0).afterUnload(MASS_UNLOAD);
    // The async collection finishes on its own schedule: wait for the heap to drop (bounded).
    for (let i = 0; i < 50 && process.memoryUsage().heapUsed > before - 10_000_000; i++) await tick(20);
    expect(garbage).toBeNull();
    expect(process.memoryUsage().heapUsed).toBeLessThan(before - 10_000_000);
  });
});
