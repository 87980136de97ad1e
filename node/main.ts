import { loadNodeConfig } from "../shared/config.js";
import { createLogger } from "../shared/log.js";
import { startNode } from "./node-server.js";

/** A game node, configured by environment variables (see README). */
const log = createLogger("node");
// After an uncaught exception the process may be half-way through changing a
// lobby: stop at once. Other nodes claim its lobbies in about a second, from
// Postgres, where nothing acked is missing.
process.on("uncaughtException", (err) => {
  log.fatal({ err }, "uncaught exception: exiting");
  process.exit(1);
});
// An unhandled rejection is a promise nobody waited for (a best-effort publish,
// say): the code that failed has unwound, nothing is half-done. Logged, so it
// gets fixed, but not worth a failover of every lobby on the node.
process.on("unhandledRejection", (err) => log.error({ err }, "unhandled rejection (kept running)"));

/** A stop that hangs (an unreachable database) must not keep the process alive past this. */
const STOP_LIMIT_MS = 10_000;

try {
  const config = loadNodeConfig();
  let stopping = false;
  const stopAndExit = (code: number) => {
    setTimeout(() => process.exit(code), STOP_LIMIT_MS).unref();
    node.stop().then(
      () => process.exit(code),
      () => process.exit(1),
    );
  };
  const node = await startNode(config, log.child({}), (code) => {
    // Drained on an operator's request: every lobby is elsewhere.
    if (stopping) return;
    stopping = true;
    stopAndExit(code);
  });
  // SIGTERM (Kubernetes, systemd): hand every lobby off within the drain deadline, then exit.
  process.on("SIGTERM", () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: "SIGTERM" }, "draining, then stopping");
    node.drain().then(() => stopAndExit(0));
  });
  // SIGINT (Ctrl-C, or the whole local cluster stopping): no handoffs, release everything now.
  process.on("SIGINT", () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: "SIGINT" }, "stopping");
    stopAndExit(0);
  });
} catch (err) {
  log.fatal({ err }, "node failed to start");
  process.exit(1);
}
