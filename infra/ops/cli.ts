import { writeFile } from "node:fs/promises";
import { Command, Option } from "commander";
import { bundledGames } from "../../shared/games/index.js";
import { AdminError } from "./admin-client.js";
import { adminClientFor, type GlobalOptions, integer } from "./cli-options.js";
import { emit, reportError } from "./cli-output.js";
import { type DrillCommandOptions, drillCommand } from "./drill-command.js";
import { LogCheckError } from "./log-check.js";
import { Progress } from "./progress.js";
import { formatHistory, formatNodes, formatRing, ringShares } from "./ring-view.js";
import { drainAndWait, rebalanceAndWait } from "./work-wait.js";

/**
 * `npm run ops -- <command>`: the operators' command line for a running
 * cluster, over the balancer's admin API. Every command takes --json (its
 * result as JSON on stdout). Exit codes: 0 done, 1 error (the message names
 * the HTTP status when the balancer refused; a --wait that timed out), 2 a
 * drill ran but missed a target.
 */

const program = new Command("ringside-ops")
  .description("Operate a Ringside cluster through its balancer's admin API")
  .option("--url <url>", "balancer URL (default: from .data/cluster.json, else http://127.0.0.1:4000)")
  .option("--token <token>", "admin token (default: $RINGSIDE_ADMIN_TOKEN, else the development token)")
  .option("--json", "print the result as JSON on stdout (progress and errors stay on stderr)")
  .showHelpAfterError()
  .configureHelp({ sortSubcommands: false });

function globals(): GlobalOptions {
  return program.opts<GlobalOptions>();
}

program
  .command("ring")
  .description("the ring: nodes with state, weight, lobbies and their share of the hash circle")
  .option("--svg <file>", "also save the balancer's SVG picture of the ring to this file")
  .action(async (opts: { svg?: string }) => {
    const admin = await adminClientFor(globals());
    const ring = await admin.ring();
    if (opts.svg) await writeFile(opts.svg, await admin.ringSvg());
    const shares = Object.fromEntries(ringShares(ring.members));
    emit(globals(), { ...ring, shares, ...(opts.svg ? { svg: opts.svg } : {}) }, () =>
      opts.svg ? `${formatRing(ring)}\n\nsaved ${opts.svg}` : formatRing(ring),
    );
  });

program
  .command("nodes")
  .description("every node recorded in Postgres, dead ones included")
  .action(async () => {
    const nodes = await (await adminClientFor(globals())).nodes();
    emit(globals(), { nodes }, () => formatNodes(nodes));
  });

program
  .command("weight")
  .description("set a node's ring weight (0 takes it off the ring for new lobbies)")
  .argument("<node>", "node id, e.g. node-2")
  .argument("<weight>", "0..100", integer(0, 100))
  .action(async (node: string, weight: number) => {
    const result = await (await adminClientFor(globals())).setWeight(node, weight);
    emit(globals(), result, () => `${result.id}: weight ${result.weight}`);
  });

program
  .command("drain")
  .description("drain a node: it takes no new lobbies, hands its lobbies off and exits")
  .argument("<node>", "node id, e.g. node-2")
  .option("--wait", "wait until its lobbies are elsewhere or it exited, with progress on stderr")
  .option("--timeout <seconds>", "give up waiting after this long (exit 1)", integer(1, 86_400), 120)
  .action(async (node: string, opts: { wait?: boolean; timeout: number }) => {
    const admin = await adminClientFor(globals());
    if (!opts.wait) {
      const result = await admin.drain(node);
      emit(
        globals(),
        result,
        () => `${result.id}: ${result.state} (follow it with \`npm run ops -- nodes\`, or use --wait)`,
      );
      return;
    }
    const done = await drainAndWait(admin, node, { timeoutMs: opts.timeout * 1000, progress: new Progress() });
    emit(globals(), done, () => {
      const how = { moved: "owns no lobby any more", exited: "exited", restarted: "exited and was started again" };
      const left = done.lobbiesLeft > 0 ? `; ${done.lobbiesLeft} lobbies were left to fail over` : "";
      return `${done.id}: drained, ${how[done.outcome]} after ${done.waitedMs} ms${left}`;
    });
  });

program
  .command("rebalance")
  .description("move lobbies served off their ring position (after failovers or new nodes) to their ring owners")
  .option("--wait", "wait until no lobby with a live owner is off its ring owner, with progress on stderr")
  .option("--timeout <seconds>", "give up waiting after this long (exit 1)", integer(1, 86_400), 120)
  .action(async (opts: { wait?: boolean; timeout: number }) => {
    const admin = await adminClientFor(globals());
    if (!opts.wait) {
      const result = await admin.rebalance();
      emit(
        globals(),
        result,
        () =>
          `rebalance requested: ${result.exceptions} lobby(s) were off their ring owner (watch \`npm run ops -- ring\`, or use --wait)`,
      );
      return;
    }
    const done = await rebalanceAndWait(admin, { timeoutMs: opts.timeout * 1000, progress: new Progress() });
    emit(
      globals(),
      done,
      () => `rebalanced: ${done.requested} lobby(s) were off their ring owner, none is now (${done.waitedMs} ms)`,
    );
  });

program
  .command("announce")
  .description("send an announcement to every connected player on every node")
  .argument("<text...>", "the message")
  .action(async (words: string[]) => {
    const result = await (await adminClientFor(globals())).announce(words.join(" "));
    emit(globals(), result, () => `announced at ${result.at}: ${result.text}`);
  });

program
  .command("history")
  .description("recent cluster events (nodes joining, dying, draining; lobbies moving), oldest first")
  .option("--limit <n>", "how many entries", integer(1, 1000), 50)
  .action(async (opts: { limit: number }) => {
    const history = await (await adminClientFor(globals())).history(opts.limit);
    emit(globals(), { history }, () => formatHistory(history));
  });

program
  .command("drill")
  .description("failover drill: load through the balancer, SIGKILL a node, measure recovery, check the durable log")
  .option("--lobbies <n>", "lobbies of two players to run", integer(1, 2000), 30)
  .addOption(
    new Option("--game <id>", "the game the players play")
      .choices(bundledGames.map((g) => g.id))
      .default("connect-four"),
  )
  .addOption(new Option("--node <name>", "node to kill (default: the one serving most of the drill's lobbies)"))
  .addOption(new Option("--random", "kill a random node that serves some of the lobbies").conflicts("node"))
  .option("--pid <pid>", "process id to kill (default: the node's pid from .data/cluster.json)", integer(1))
  .addOption(
    new Option(
      "--kill-command <template>",
      "kill with this shell command instead of a local SIGKILL; {node} becomes the victim's id, " +
        "e.g. 'kubectl delete pod {node} --grace-period=0 --force'",
    ).conflicts("pid"),
  )
  .option("--repeat <n>", "drills in a row, waiting for the cluster to be whole in between", integer(1, 100), 1)
  .option("--warmup-ms <ms>", "load before the kill", integer(0), 3000)
  .option("--observe-ms <ms>", "load after the kill", integer(500), 5000)
  .option("--out <dir>", "where the JSON and HTML reports go", "reports")
  .option(
    "--database-url <url>",
    "Postgres with the lobbies' log (default: $DATABASE_URL, else npm start's embedded one)",
  )
  .option("--schema <name>", "schema of the log (default: $RINGSIDE_SCHEMA, else ringside)")
  .option("--recover-timeout-ms <ms>", "how long to wait for the cluster between drills", integer(1000), 60_000)
  .option(
    "--idle-lobbies <n>",
    "first make this many lobbies nobody uses (real creates through the balancer) and wait until the nodes unload them",
    integer(0, 1_000_000),
    0,
  )
  .option("--idle-timeout-ms <ms>", "how long to wait for the idle lobbies to unload", integer(1000), 300_000)
  .action(async (opts: DrillCommandOptions) => {
    process.exitCode = await drillCommand(opts, globals());
  });

function explain(err: unknown): string {
  if (err instanceof LogCheckError) return `durable log check failed: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  reportError(globals(), explain(err), err instanceof AdminError ? err.status : undefined);
  process.exitCode = 1;
}
