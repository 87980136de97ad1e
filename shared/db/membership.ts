import type { Queryable } from "./pool.js";

/**
 * Every SQL statement about node membership. Lease expiry is always judged
 * with the database's now(), never a process's clock: nodes and balancers may
 * disagree on the time, Postgres is the single referee.
 */

export type NodeState = "joining" | "active" | "draining" | "dead";

export type NodeRow = {
  id: string;
  url: string;
  state: NodeState;
  weight: number;
  incarnation: number;
  /** The lease had not expired at the time of the query (Postgres time). */
  leaseValid: boolean;
  leaseExpires: Date;
  startedAt: Date;
};

const NODE_COLUMNS = `id, url, state, weight, incarnation::int AS incarnation,
  lease_expires > now() AS "leaseValid", lease_expires AS "leaseExpires", started_at AS "startedAt"`;

/**
 * Registers (or re-registers after a restart or a lost lease) a node as a new
 * incarnation, active, with a fresh lease: one statement, so no failure can
 * leave a half-registered row that counts as alive but never serves.
 */
export async function registerNode(
  db: Queryable,
  node: { id: string; url: string; weight: number; leaseMs: number },
): Promise<NodeRow> {
  const { rows } = await db.query<NodeRow>(
    `INSERT INTO nodes (id, url, state, weight, lease_expires)
     VALUES ($1, $2, 'active', $3, now() + make_interval(secs => $4::float8 / 1000))
     ON CONFLICT (id) DO UPDATE SET url = EXCLUDED.url, state = 'active', weight = EXCLUDED.weight,
       incarnation = nodes.incarnation + 1, lease_expires = EXCLUDED.lease_expires,
       started_at = now(), updated_at = now(), dead_reason = NULL
     RETURNING ${NODE_COLUMNS}`,
    [node.id, node.url, node.weight, node.leaseMs],
  );
  return rows[0] as NodeRow;
}

/**
 * Renews a node's lease, unless it was declared dead (then nothing is
 * returned and the node must fence itself). Returns the state recorded in
 * Postgres, which operators may have changed (draining).
 */
export async function renewLease(
  db: Queryable,
  id: string,
  incarnation: number,
  leaseMs: number,
): Promise<{ state: NodeState; weight: number } | null> {
  const { rows } = await db.query<{ state: NodeState; weight: number }>(
    `UPDATE nodes SET lease_expires = now() + make_interval(secs => $3::float8 / 1000), updated_at = now()
     WHERE id = $1 AND incarnation = $2 AND state <> 'dead' AND lease_expires > now()
     RETURNING state, weight`,
    [id, incarnation, leaseMs],
  );
  return rows[0] ?? null;
}

/** Moves a live node between joining, active and draining. */
export async function setNodeState(db: Queryable, id: string, from: NodeState[], to: NodeState): Promise<boolean> {
  const { rowCount } = await db.query(
    "UPDATE nodes SET state = $3, updated_at = now() WHERE id = $1 AND state = ANY($2::text[])",
    [id, from, to],
  );
  return (rowCount ?? 0) > 0;
}

export async function setNodeWeight(db: Queryable, id: string, weight: number): Promise<boolean> {
  const { rowCount } = await db.query(
    "UPDATE nodes SET weight = $2, updated_at = now() WHERE id = $1 AND state <> 'dead'",
    [id, weight],
  );
  return (rowCount ?? 0) > 0;
}

export async function listNodes(db: Queryable): Promise<NodeRow[]> {
  const { rows } = await db.query<NodeRow>(`SELECT ${NODE_COLUMNS} FROM nodes ORDER BY id`);
  return rows;
}

/**
 * Declares one node dead (a balancer saw its port refuse connections, or an
 * operator removed it). Returns false when it was dead already. With an
 * incarnation, only that one: a node restarted under the same id since the
 * refusals were seen is left alone.
 */
export async function markNodeDead(db: Queryable, id: string, reason: string, incarnation?: number): Promise<boolean> {
  const { rows } = await db.query(
    `WITH dead AS (
       UPDATE nodes SET state = 'dead', dead_reason = $2, lease_expires = least(lease_expires, now()), updated_at = now()
       WHERE id = $1 AND state <> 'dead' AND ($3::bigint IS NULL OR incarnation = $3) RETURNING id)
     INSERT INTO cluster_history (kind, node_id, detail)
       SELECT 'node_dead', id, jsonb_build_object('reason', $2::text) FROM dead RETURNING node_id`,
    [id, reason, incarnation ?? null],
  );
  return rows.length > 0;
}

/** Declares dead every node whose lease ran out; returns their ids. Any process may run it. */
export async function expireLeases(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ node_id: string }>(
    `WITH dead AS (
       UPDATE nodes SET state = 'dead', dead_reason = 'lease expired', updated_at = now()
       WHERE state <> 'dead' AND lease_expires <= now() RETURNING id)
     INSERT INTO cluster_history (kind, node_id, detail)
       SELECT 'node_dead', id, '{"reason":"lease expired"}'::jsonb FROM dead RETURNING node_id`,
  );
  return rows.map((r) => r.node_id);
}

export async function recordHistory(
  db: Queryable,
  entry: { kind: string; nodeId?: string; code?: string; detail?: Record<string, unknown> },
): Promise<void> {
  await db.query("INSERT INTO cluster_history (kind, node_id, code, detail) VALUES ($1, $2, $3, $4)", [
    entry.kind,
    entry.nodeId ?? null,
    entry.code ?? null,
    JSON.stringify(entry.detail ?? {}),
  ]);
}

export type HistoryRow = {
  id: number;
  at: Date;
  kind: string;
  nodeId: string | null;
  code: string | null;
  detail: unknown;
};

export async function recentHistory(db: Queryable, limit: number): Promise<HistoryRow[]> {
  const { rows } = await db.query<HistoryRow>(
    `SELECT id::int AS id, at, kind, node_id AS "nodeId", code, detail FROM cluster_history ORDER BY id DESC LIMIT $1`,
    [limit],
  );
  return rows;
}
