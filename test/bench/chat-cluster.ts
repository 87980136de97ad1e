import { randomBytes } from "node:crypto";
import pg from "pg";
import { dropSchema, migrate } from "../../shared/db/migrate.js";
import { quoteIdent } from "../../shared/db/pool.js";
import { ProcessGroup, type RingsideProcess } from "../helpers/processes.js";
import { summarize } from "./bench-kit.js";

/**
 * The clusters bench:chat compares: a balancer in front of 3 nodes, in a
 * schema of its own, durable or not (RINGSIDE_DURABLE). Per-socket and
 * per-client limits are raised: the load generator is one address playing
 * many players, far faster than a person types.
 */

export const NODES = 3;

export type BenchCluster = {
  label: string;
  durable: boolean;
  balancer: RingsideProcess;
  nodes: RingsideProcess[];
  stop(): Promise<void>;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startBenchCluster(databaseUrl: string, durable: boolean): Promise<BenchCluster> {
  const schema = `bench_chat_${durable ? "d" : "m"}_${randomBytes(3).toString("hex")}`;
  await migrate(databaseUrl, schema);
  const group = new ProcessGroup({
    DATABASE_URL: databaseUrl,
    RINGSIDE_SCHEMA: schema,
    RINGSIDE_BUS: "postgres",
    PORT: "0",
    RINGSIDE_DURABLE: durable ? "1" : "0",
    RINGSIDE_RATE_PER_SECOND: "100000",
    RINGSIDE_RATE_BURST: "100000",
    RINGSIDE_CREATE_PER_SECOND: "1000000",
    RINGSIDE_CREATE_BURST: "10000000",
  });
  const stop = async () => {
    await group.stopAll();
    await dropSchema(databaseUrl, schema).catch(() => {});
  };
  try {
    const nodes = await Promise.all(
      Array.from({ length: NODES }, (_, i) => group.start("node", { NODE_ID: `${durable ? "d" : "m"}${i + 1}` })),
    );
    const balancer = await group.start("balancer", { BALANCER_ID: "b1", LOG_LEVEL: "warn" });
    await awaitRing(balancer.url);
    return { label: durable ? "durable" : "in-memory", durable, balancer, nodes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function awaitRing(base: string): Promise<void> {
  const auth = { authorization: `Bearer ${process.env.RINGSIDE_ADMIN_TOKEN ?? "dev-admin-token"}` };
  for (let i = 0; i < 300; i++) {
    const res = await fetch(`${base}/admin/ring`, { headers: auth }).catch(() => null);
    const body = res?.ok ? ((await res.json()) as { members?: unknown[] }) : null;
    if (body?.members?.length === NODES) return;
    await sleep(100);
  }
  throw new Error(`the balancer's ring never had ${NODES} nodes`);
}

/**
 * What one durable write costs on this Postgres, whatever Ringside does:
 * a single-row INSERT committed on its own (autocommit, so one WAL flush
 * each), sequentially, on one connection.
 */
export class CommitProbe {
  private constructor(
    private readonly client: pg.Client,
    private readonly schema: string,
  ) {}

  static async open(databaseUrl: string): Promise<CommitProbe> {
    const schema = `bench_probe_${randomBytes(3).toString("hex")}`;
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
    await client.query(`CREATE TABLE ${quoteIdent(schema)}.probe (id bigserial PRIMARY KEY, note text NOT NULL)`);
    return new CommitProbe(client, schema);
  }

  /** Commit latencies in ms. */
  async sample(count: number): Promise<number[]> {
    const samples: number[] = [];
    const text = `INSERT INTO ${quoteIdent(this.schema)}.probe (note) VALUES ($1)`;
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await this.client.query({ name: "probe", text, values: ["probe"] });
      samples.push(performance.now() - started);
    }
    return samples;
  }

  async close(): Promise<void> {
    await this.client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(this.schema)} CASCADE`).catch(() => {});
    await this.client.end();
  }
}

export function p50(samples: number[]): number {
  return summarize(samples).p50;
}
