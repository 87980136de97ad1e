import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "../../shared/db/embedded.js";

/**
 * One Postgres for the whole run: DATABASE_URL when set (CI uses the machine's
 * server), otherwise an embedded one started here and stopped at the end.
 * Each test file then works in a schema of its own (see db.ts).
 */
export default async function setup(project: TestProject) {
  const given = process.env.DATABASE_URL;
  if (given) {
    project.provide("databaseUrl", given);
    console.log(`[ringside tests] using DATABASE_URL (${given.replace(/:[^:@/]*@/, ":***@")})`);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), "ringside-test-pg-"));
  // mkdtemp makes the folder 0700; Postgres runs as its own user and must reach it.
  await chmod(dir, 0o755);
  const db = await startEmbeddedPostgres({ dataDir: join(dir, "data"), persistent: false });
  console.log(`[ringside tests] DATABASE_URL unset: started embedded Postgres at ${db.url}`);
  project.provide("databaseUrl", db.url);
  return async () => {
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}
