import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { ProcessGroup } from "../helpers/processes.js";
import { within } from "../helpers/wait.js";

/**
 * Issue 10: after an uncaught exception a process may be half-way through
 * changing its state, so node and balancer log it as fatal and exit 1 (the
 * cluster recovers in about a second; a supervisor restarts them). The
 * exception comes from a preloaded module, on SIGUSR2.
 */

const THROWER = fileURLToPath(new URL("../helpers/throw-on-signal.mjs", import.meta.url));

describe("an uncaught exception", () => {
  let db: TestDatabase;
  let group: ProcessGroup;

  beforeAll(async () => {
    db = await createTestDatabase("uncaught");
    group = new ProcessGroup({
      DATABASE_URL: db.url,
      RINGSIDE_SCHEMA: db.schema,
      PORT: "0",
      NODE_OPTIONS: `--import=${THROWER}`,
    });
  });

  afterAll(async () => {
    await group?.stopAll();
    await db?.cleanup();
  });

  for (const kind of ["node", "balancer"] as const) {
    it(`makes a ${kind} log it as fatal and exit 1`, async () => {
      const proc = await group.start(kind, kind === "node" ? { NODE_ID: "n1" } : {});
      proc.kill("SIGUSR2");
      expect(await within(proc.exited, `the ${kind}'s exit`, 10_000)).toBe(1);
      const fatal = proc.lines.find((l) => l.includes("uncaught exception"));
      expect(fatal).toMatch(/"level":60/);
      expect(fatal).toMatch(/test: an uncaught exception/);
    });
  }
});
