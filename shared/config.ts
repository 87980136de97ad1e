import { isIP } from "node:net";
import { z } from "zod";
import type { DbTimeouts } from "./db/pool.js";
import { resolveSecret, type SecretName } from "./secrets.js";

/**
 * Every setting comes from the environment, so each part runs alone in
 * production (one process per container) and `npm start` can launch them all.
 * The README lists each variable with its default; keep the two in step.
 */

export { DEV_ADMIN_TOKEN, DEV_TOKEN_SECRET } from "./secrets.js";

const bool = z
  .enum(["1", "0", "true", "false", "on", "off", "yes", "no"])
  .transform((v) => ["1", "true", "on", "yes"].includes(v));

const rate = z.coerce.number().positive().max(1_000_000);
const burst = z.coerce.number().int().min(1).max(10_000_000);
const cap = z.coerce.number().int().min(1).max(10_000_000);

const common = {
  DATABASE_URL: z.string().min(1).optional(),
  RINGSIDE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,40}$/, "schema must be a lowercase SQL identifier")
    .default("ringside"),
  RINGSIDE_BUS: z.enum(["postgres", "redis", "memory"]).default("postgres"),
  REDIS_URL: z.string().optional(),
  RINGSIDE_LEASE_MS: z.coerce.number().int().min(300).max(60_000).default(3000),
  RINGSIDE_HEARTBEAT_MS: z.coerce.number().int().min(50).max(20_000).default(1000),
  /** Postgres cancels any statement running longer (statement_timeout on every pooled connection). */
  RINGSIDE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  /** Postgres cancels any statement waiting longer for a lock (lock_timeout). */
  RINGSIDE_LOCK_TIMEOUT_MS: z.coerce.number().int().min(50).max(600_000).default(2000),
  /**
   * Connections of the process's main Postgres pool (a node also keeps 1 for its lease, 2 for
   * the group commit and 1 to LISTEN). Size it to the server's max_connections over all processes.
   */
  RINGSIDE_DB_POOL_MAX: z.coerce.number().int().min(2).max(200).default(10),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  HOST: z.string().default("127.0.0.1"),
};

const nodeSchema = z.object({
  ...common,
  PORT: z.coerce.number().int().min(0).max(65535).default(4001),
  NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .optional(),
  /** How balancers reach this node; defaults to http://HOST:PORT. */
  NODE_URL: z.string().url().optional(),
  NODE_WEIGHT: z.coerce.number().int().min(0).max(100).default(1),
  /** Off only for the benchmark's in-memory baseline: acks without Postgres. */
  RINGSIDE_DURABLE: bool.default(true),
  RINGSIDE_MAX_PLAYERS: z.coerce.number().int().min(2).max(64).default(8),
  /** Presence rows are written on open and close; this refreshes them all (and cleans up stale ones). */
  RINGSIDE_PRESENCE_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** Each WebSocket is pinged this often (a slice of them at a time); one whose ping is this old unanswered is closed. */
  RINGSIDE_WS_PING_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
  /** Per-connection token bucket: sustained actions a second, and the burst allowed. */
  RINGSIDE_RATE_PER_SECOND: z.coerce.number().min(1).max(100_000).default(20),
  RINGSIDE_RATE_BURST: z.coerce.number().int().min(1).max(100_000).default(40),
  /** Signals (ephemeral frames) per connection, on a bucket of their own. */
  RINGSIDE_SIGNAL_RATE_PER_SECOND: z.coerce.number().min(1).max(100_000).default(30),
  RINGSIDE_SIGNAL_RATE_BURST: z.coerce.number().int().min(1).max(100_000).default(60),
  /**
   * The games this node runs, comma-separated: bundled ids (connect-four, battleship) or module
   * specifiers whose default export is a game or a list of games. The first is the default game.
   */
  RINGSIDE_GAMES: z.string().optional(),
  /** The lobby lifecycle (docs/operations.md): unload idle lobbies, close those left alone, retire closed logs. */
  RINGSIDE_IDLE_UNLOAD_MS: z.coerce.number().int().min(100).max(86_400_000).default(60_000),
  RINGSIDE_FINISHED_CLOSE_MS: z.coerce.number().int().min(100).default(600_000),
  RINGSIDE_ABANDONED_CLOSE_MS: z.coerce.number().int().min(100).default(3_600_000),
  RINGSIDE_RETENTION_MS: z.coerce.number().int().min(100).default(604_800_000),
  RINGSIDE_LIFECYCLE_MS: z.coerce.number().int().min(50).max(600_000).default(5000),
  /** A dead node's lobbies that committed within this window (or have a timer, or players) are claimed at once. */
  RINGSIDE_ACTIVE_WINDOW_MS: z.coerce.number().int().min(100).default(60_000),
  /** A group commit with no answer after this long fails (its lobbies reload), so one hung commit cannot stall every lobby. */
  RINGSIDE_COMMIT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(2000),
  /** SIGTERM (or an operator's drain): hand every lobby off within this long, else release them all and exit. */
  RINGSIDE_DRAIN_DEADLINE_MS: z.coerce.number().int().min(0).max(600_000).default(20_000),
});

const balancerSchema = z.object({
  ...common,
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  BALANCER_ID: z.string().default("balancer"),
  /**
   * How often the balancer probes each node's /healthz, on a kept-alive connection. A node whose
   * process dies closes that connection, which triggers a probe at once: death is seen within
   * ~150 ms whatever this interval, so it can be long (an idle balancer then costs little).
   */
  RINGSIDE_PROBE_MS: z.coerce.number().int().min(20).max(10_000).default(2000),
  /** Consecutive refused probes before a node is recorded dead. */
  RINGSIDE_PROBE_FAILURES: z.coerce.number().int().min(1).max(20).default(3),
  RINGSIDE_TRUST_PROXY: bool.default(false),
  /** One JSON line per request on stdout (method, path without query, route, status, ms, node, client). */
  RINGSIDE_ACCESS_LOG: bool.default(false),
  /** /metrics on a listener of its own (not on the public port); unset: on the public port. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  METRICS_HOST: z.string().optional(),
  /** Deadline of a proxied request, from sending (queueing for a pooled socket included) to the answer's headers. */
  RINGSIDE_UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** How long a request refused by a node waits for the verdict on it (death: sent to the new route) before 503. */
  RINGSIDE_REFUSED_HOLD_MS: z.coerce.number().int().min(0).max(60_000).default(3000),
  /**
   * Local addresses the balancer's WebSocket tunnels to nodes connect from, in turn (comma-separated).
   * One source address reaches one node through at most ~28,000 tunnels (the ephemeral port range),
   * and Linux's connect() slows sharply once half of that is in use: give a balancer more addresses
   * when a node holds more than ~14,000 of its players. Unset: the kernel picks.
   */
  BALANCER_SOURCE_ADDRESSES: z
    .string()
    .transform((v) =>
      v
        .split(",")
        .map((a) => a.trim())
        .filter(Boolean),
    )
    .refine((list) => list.length > 0 && list.every((a) => isIP(a) !== 0), "a comma-separated list of IP addresses")
    .optional(),
  /** Pooled keep-alive connections per node. */
  RINGSIDE_NODE_SOCKETS: z.coerce.number().int().min(1).max(65_536).default(512),
  /** Header bytes a node accepts (Node's --max-http-header-size); bigger requests get 431 here. */
  RINGSIDE_NODE_MAX_HEADER_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1 << 20)
    .default(16_384),
  RINGSIDE_CREATE_PER_SECOND: rate.default(1),
  RINGSIDE_CREATE_BURST: burst.default(20),
  RINGSIDE_JOIN_PER_SECOND: rate.default(5),
  RINGSIDE_JOIN_BURST: burst.default(50),
  RINGSIDE_WS_PER_IP: cap.default(256),
  RINGSIDE_WS_MAX: cap.default(50_000),
  RINGSIDE_SSE_PER_IP: cap.default(32),
  RINGSIDE_SSE_MAX: cap.default(20_000),
  /** Failed admin logins a client may make at once, and how fast that allowance comes back. */
  RINGSIDE_ADMIN_FAILURES_BURST: burst.default(10),
  RINGSIDE_ADMIN_FAILURES_PER_SECOND: rate.default(0.1),
});

/** Secrets are checked apart from the schema (shared/secrets.ts): each part needs only its own. */
export type NodeConfig = z.infer<typeof nodeSchema> & { RINGSIDE_TOKEN_SECRET: string };
export type BalancerConfig = z.infer<typeof balancerSchema> & { RINGSIDE_ADMIN_TOKEN: string };
export type CommonConfig = Pick<NodeConfig, keyof typeof common>;

/** A setting is missing or wrong: the process should say so in one line and exit. */
export class ConfigError extends Error {}

function parse<T extends z.ZodTypeAny>(schema: T, env: NodeJS.ProcessEnv): z.infer<T> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  return result.data;
}

export function loadNodeConfig(env: NodeJS.ProcessEnv = process.env): NodeConfig {
  return { ...parse(nodeSchema, env), RINGSIDE_TOKEN_SECRET: secret("RINGSIDE_TOKEN_SECRET", env) };
}

export function loadBalancerConfig(env: NodeJS.ProcessEnv = process.env): BalancerConfig {
  return { ...parse(balancerSchema, env), RINGSIDE_ADMIN_TOKEN: secret("RINGSIDE_ADMIN_TOKEN", env) };
}

function secret(name: SecretName, env: NodeJS.ProcessEnv): string {
  try {
    return resolveSecret(name, env);
  } catch (err) {
    throw new ConfigError(`invalid configuration:\n  ${(err as Error).message}`);
  }
}

export function requireDatabaseUrl(config: { DATABASE_URL?: string }): string {
  if (!config.DATABASE_URL) {
    throw new ConfigError("DATABASE_URL is not set (npm start sets it for you when it starts embedded Postgres)");
  }
  return config.DATABASE_URL;
}

/** The deadlines of a part's main pool: the client gives up a second after Postgres would have. */
export function dbTimeoutsOf(config: CommonConfig): Partial<DbTimeouts> {
  return {
    statementMs: config.RINGSIDE_STATEMENT_TIMEOUT_MS,
    lockMs: config.RINGSIDE_LOCK_TIMEOUT_MS,
    queryMs: config.RINGSIDE_STATEMENT_TIMEOUT_MS + 1000,
  };
}
/**
 * What `npm start` and the test and benchmark launchers give every part they
 * start (under whatever the environment sets): development secrets
 * (RINGSIDE_DEV, refused with NODE_ENV=production) and per-client limits that
 * one machine playing many clients from one address never reaches.
 */
export const DEVELOPMENT_ENV: Readonly<Record<string, string>> = {
  RINGSIDE_DEV: "1",
  RINGSIDE_CREATE_PER_SECOND: "100000",
  RINGSIDE_CREATE_BURST: "1000000",
  RINGSIDE_JOIN_PER_SECOND: "100000",
  RINGSIDE_JOIN_BURST: "1000000",
  RINGSIDE_WS_PER_IP: "1000000",
  RINGSIDE_SSE_PER_IP: "100000",
};
