import { writeFile } from "node:fs/promises";
import { Command, Option } from "commander";
import { bundledGames } from "../../shared/games/index.js";
import { adminClientFor, type GlobalOptions, integer } from "./cli-options.js";
import { type DrillCommandOptions, drillCommand } from "./drill-command.js";
import { LogCheckError } from "./log-check.js";
import { formatHistory, formatNodes, formatRing } from "./ring-view.js";

/**
 * `npm run ops -- <command>`: the operators' command line for a running
 * cluster, over the balancer's admin API. Exit codes: 0 done, 1 error (the
 * message names the HTTP status when the balancer refused), 2 a drill ran
 * but missed a target.
 */

const program = new Command("ringside-ops")
  .description("Operate a Ringside cluster through its balancer's admin API")
  .option("--url <url>", "balancer URL (default: from .data/cluster.json, else http://127.0.0.1:4000)")
  .option("--token <token>", "admin token (default: $RINGSIDE_ADMIN_TOKEN, else the development token)")
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
    console.log(formatRing(await admin.ring()));
    if (opts.svg) {
      await writeFile(opts.svg, await admin.ringSvg());
      console.log(`\nsaved ${opts.svg}`);
    }
  });

program
  .command("nodes")
  .description("every node recorded in Postgres, dead ones included")
  .action(async () => {
    console.log(formatNodes(await (await adminClientFor(globals())).nodes()));
  });

program
  .command("weight")
  .description("set a node's ring weight (0 takes it off the ring for new lobbies)")
  .argument("<node>", "node id, e.g. node-2")
  .argument("<weight>", "0..100", integer(0, 100))
  .action(async (node: string, weight: number) => {
    const result = await (await adminClientFor(globals())).setWeight(node, weight);
    console.log(`${result.id}: weight ${result.weight}`);
  });

program
  .command("drain")
  .description("drain a node: it takes no new lobbies, hands its lobbies off and exits")
  .argument("<node>", "node id, e.g. node-2")
  .action(async (node: string) => {
    const result = await (await adminClientFor(globals())).drain(node);
    console.log(`${result.id}: ${result.state} (follow it with \`npm run ops -- nodes\`)`);
  });

program
  .command("rebalance")
  .description("move lobbies served off their ring position (after failovers or new nodes) to their ring owners")
  .action(async () => {
    const result = await (await adminClientFor(globals())).rebalance();
    console.log(
      `rebalance requested: ${result.exceptions} lobby(s) were off their ring owner (watch \`npm run ops -- ring\`)`,
    );
  });

program
  .command("announce")
  .description("send an announcement to every connected player on every node")
  .argument("<text...>", "the message")
  .action(async (words: string[]) => {
    const result = await (await adminClientFor(globals())).announce(words.join(" "));
    console.log(`announced at ${result.at}: ${result.text}`);
  });

program
  .command("history")
  .description("recent cluster events (nodes joining, dying, draining; lobbies moving), oldest first")
  .option("--limit <n>", "how many entries", integer(1, 1000), 50)
  .action(async (opts: { limit: number }) => {
    console.log(formatHistory(await (await adminClientFor(globals())).history(opts.limit)));
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
  console.error(`error: ${explain(err)}`);
  process.exitCode = 1;
}
