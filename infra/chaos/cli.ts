import { Command, InvalidArgumentError, Option } from "commander";
import { DEV_ADMIN_TOKEN } from "../../shared/config.js";
import { Progress } from "../ops/progress.js";
import { chaosVerdictLine, formatChaosSummary } from "./console.js";
import { ControlClient } from "./control-client.js";
import { attachCluster, type ClusterHandle, startOwnCluster } from "./own-cluster.js";
import { FAULT_KINDS, type FaultKind } from "./recovery.js";
import { buildChaosReport, writeChaosReport } from "./report.js";
import { runSoak } from "./soak.js";

/**
 * `npm run chaos -- --minutes N`: the chaos soak (see docs/operations.md).
 * Exit codes: 0 no violation, 2 a violation (lost, duplicated, misordered,
 * gaps, or a fault the cluster did not recover from), 1 an error.
 */

type CliOptions = {
  minutes: number;
  seed?: number;
  lobbies: number;
  start?: boolean;
  faults: FaultKind[];
  holdMs: number;
  calmMs: number;
  warmupMs: number;
  recoverTimeoutMs: number;
  out: string;
  token?: string;
  clusterFile?: string;
};

export const EXIT_VIOLATION = 2;

function number(min: number, max: number, integer = true) {
  return (raw: string) => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`expected ${integer ? "an integer" : "a number"} from ${min} to ${max}`);
    }
    return n;
  };
}

function kinds(raw: string): FaultKind[] {
  const list = raw.split(",").map((k) => k.trim());
  const bad = list.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
  if (bad.length || list.length === 0)
    throw new InvalidArgumentError(`unknown fault ${bad.join(", ")}; kinds: ${FAULT_KINDS.join(", ")}`);
  return list as FaultKind[];
}

const program = new Command("ringside-chaos")
  .description("Soak a cluster under game and chat load while faults hit it; check every acked action afterwards")
  .option(
    "--minutes <n>",
    "how long to keep injecting faults (every kind runs once whatever this is)",
    number(0, 1440, false),
    10,
  )
  .option(
    "--seed <n>",
    "seed of the fault plan, victims and durations (default: random, printed)",
    number(0, 2 ** 32 - 1),
  )
  .option("--lobbies <n>", "lobbies of two players", number(1, 2000), 12)
  .option(
    "--start",
    "start a cluster of its own (free ports, Postgres behind a stallable proxy) instead of npm start's",
  )
  .addOption(
    new Option("--faults <list>", `comma-separated kinds (${FAULT_KINDS.join(",")})`)
      .argParser(kinds)
      .default([...FAULT_KINDS], "all"),
  )
  .option(
    "--hold-ms <n>",
    "longest SIGSTOP or Postgres stall (each random between half this and this)",
    number(100, 120_000),
    5000,
  )
  .option(
    "--calm-ms <n>",
    "longest steady load between two faults (random between half this and this)",
    number(0, 600_000),
    3000,
  )
  .option("--warmup-ms <n>", "steady load before the first fault", number(0, 600_000), 3000)
  .option(
    "--recover-timeout-ms <n>",
    "a fault the cluster has not recovered from after this long is a violation",
    number(1000, 600_000),
    60_000,
  )
  .option("--out <dir>", "where the JSON and HTML reports go", "reports")
  .option("--token <token>", "admin token (default: $RINGSIDE_ADMIN_TOKEN, else the development token)")
  .option("--cluster-file <path>", "the launcher's state file (default .data/cluster.json)")
  .showHelpAfterError();

async function main(): Promise<number> {
  const opts = program.parse().opts<CliOptions>();
  const token = opts.token ?? process.env.RINGSIDE_ADMIN_TOKEN ?? DEV_ADMIN_TOKEN;
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 32);
  const progress = new Progress();
  progress.phase(
    `chaos soak: ${opts.minutes} min, ${opts.lobbies} lobbies, faults ${opts.faults.join(", ")}, seed ${seed}`,
  );
  const cluster = opts.start ? await startOwnCluster({}, progress) : await attachCluster(opts.clusterFile);
  const abort = () => void healAndStop(cluster, token).finally(() => process.exit(130));
  process.once("SIGINT", abort);
  process.once("SIGTERM", abort);
  try {
    const run = await runSoak(
      cluster,
      { ...opts, kinds: opts.faults, seed, token, calmMs: [Math.round(opts.calmMs / 2), opts.calmMs] },
      progress,
    );
    const report = buildChaosReport(run, {
      balancer: cluster.balancer,
      settings: {
        minutes: opts.minutes,
        seed,
        lobbies: opts.lobbies,
        holdMs: opts.holdMs,
        kinds: opts.faults,
        ownCluster: opts.start === true,
      },
    });
    const files = await writeChaosReport(report, opts.out);
    console.log(
      `\n${formatChaosSummary(report)}\n\n${chaosVerdictLine(report, [files.html, files.json], cluster.logFile)}`,
    );
    return report.passed ? 0 : EXIT_VIOLATION;
  } finally {
    await healAndStop(cluster, token);
  }
}

/** Leaves no node stopped and no Postgres stalled behind (an interrupted soak included), then stops its own cluster. */
async function healAndStop(cluster: ClusterHandle, token: string): Promise<void> {
  if (cluster.control) {
    const control = new ControlClient(cluster.control, token);
    try {
      const state = await control.state();
      for (const m of state.members.filter((x) => x.state === "stopped")) await control.signal(m.name, "SIGCONT");
      if (state.postgres.stalled) await control.stallPostgres(false);
    } catch {
      // The cluster may be gone already: nothing left to heal.
    }
  }
  await cluster.stop();
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
