import { relative } from "node:path";
import { parseArgs } from "node:util";
import { buildPackages, DEFAULT_OUT } from "./build.js";

/**
 * `npm run pack:packages [-- --out <folder>]`: builds @ringside/client and
 * @ringside/server and packs each into a tarball (default folder:
 * infra/packages/dist/, gitignored). Prints one JSON line with the tarballs last.
 */
const { values } = parseArgs({ options: { out: { type: "string" } } });
const started = Date.now();
try {
  const built = await buildPackages(values.out ?? DEFAULT_OUT, (line) => process.stderr.write(`pack: ${line}\n`));
  const show = (path: string) => relative(process.cwd(), path) || path;
  process.stderr.write(`pack: done in ${Date.now() - started} ms\n`);
  process.stdout.write(
    `${JSON.stringify({ client: show(built.client.tarball), server: show(built.server.tarball) })}\n`,
  );
} catch (err) {
  process.stderr.write(`pack: ${(err as Error).message}\n`);
  process.exit(1);
}
