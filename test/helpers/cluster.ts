import { DEV_ADMIN_TOKEN } from "../../shared/config.js";
import { createTestDatabase, type TestDatabase } from "./db.js";
import { ProcessGroup, type RingsideProcess } from "./processes.js";
import { eventually } from "./wait.js";

/**
 * A real cluster for one test file: its own schema, N node processes and M
 * balancer processes (real processes, real Postgres, the Postgres bus).
 * `stop()` kills every process and drops the schema.
 */
export type TestCluster = {
  db: TestDatabase;
  group: ProcessGroup;
  nodes: RingsideProcess[];
  balancers: RingsideProcess[];
  addNode(id: string): Promise<RingsideProcess>;
  /** The node ids a balancer currently has in its ring (admin API). */
  ringOf(balancer: RingsideProcess): Promise<string[]>;
  /** Waits until every balancer's ring is exactly these node ids. */
  awaitRing(ids: string[]): Promise<void>;
  stop(): Promise<void>;
};

export async function startCluster(options: {
  label: string;
  nodes: number;
  balancers: number;
  env?: Record<string, string>;
}): Promise<TestCluster> {
  const db = await createTestDatabase(options.label);
  const group = new ProcessGroup({
    DATABASE_URL: db.url,
    RINGSIDE_SCHEMA: db.schema,
    RINGSIDE_BUS: "postgres",
    PORT: "0",
    ...options.env,
  });
  const nodes = await Promise.all(
    Array.from({ length: options.nodes }, (_, i) => group.start("node", { NODE_ID: `n${i + 1}` })),
  );
  const balancers = await Promise.all(
    Array.from({ length: options.balancers }, (_, i) => group.start("balancer", { BALANCER_ID: `b${i + 1}` })),
  );
  const ringOf = async (balancer: RingsideProcess) => {
    const res = await fetch(`${balancer.url}/admin/ring`, { headers: { authorization: `Bearer ${DEV_ADMIN_TOKEN}` } });
    const body = (await res.json()) as { members: { id: string }[] };
    return body.members.map((n) => n.id).sort();
  };
  const cluster: TestCluster = {
    db,
    group,
    nodes,
    balancers,
    ringOf,
    async addNode(id) {
      const node = await group.start("node", { NODE_ID: id });
      nodes.push(node);
      return node;
    },
    async awaitRing(ids) {
      const want = JSON.stringify([...ids].sort());
      await eventually(
        async () => {
          const rings = await Promise.all(balancers.map(ringOf));
          return rings.every((r) => JSON.stringify(r) === want);
        },
        { what: `every balancer's ring to be ${want}` },
      );
    },
    async stop() {
      // Unplanned deaths and fencing explain most surprises in a cluster test: say if there were any.
      const notable = group.all.flatMap((p) =>
        p.lines
          .filter((l) => /declared dead|self-fencing|marked dead/.test(l))
          .map((l) => `${p.env.NODE_ID ?? p.kind}: ${l}`),
      );
      if (notable.length) console.warn(`[${options.label}] membership events:\n${notable.join("\n")}`);
      await group.stopAll();
      await db.cleanup();
    },
  };
  await cluster.awaitRing(nodes.map((_, i) => `n${i + 1}`));
  return cluster;
}
