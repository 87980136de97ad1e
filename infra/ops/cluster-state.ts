import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/**
 * What `npm start` (infra/cluster/start.ts) writes to .data/cluster.json: the
 * balancer URL and each member's PID. The ops CLI reads it for its default URL
 * and the drill for the PID to SIGKILL; it changes whenever a node restarts,
 * so callers read it again each time instead of caching it.
 */

export type ClusterMember = { name: string; kind: "node" | "balancer"; port: number; pid: number | null };
/** databaseUrl and schema: where the cluster keeps its log (older files lack them). */
export type ClusterState = { balancer: string; members: ClusterMember[]; databaseUrl?: string; schema?: string };

export const DEFAULT_BALANCER_URL = "http://127.0.0.1:4000";
export const CLUSTER_STATE_FILE = fileURLToPath(new URL("../../.data/cluster.json", import.meta.url));

/** The state file's content, or null when no local cluster is running (or the file is unreadable). */
export async function readClusterState(file = CLUSTER_STATE_FILE): Promise<ClusterState | null> {
  let raw: string;
  try {
    raw = await readFile(file, "utf8");
  } catch {
    return null;
  }
  try {
    return parseClusterState(JSON.parse(raw));
  } catch {
    return null;
  }
}

export function parseClusterState(value: unknown): ClusterState {
  const v = value as Partial<ClusterState> | null;
  if (!v || typeof v.balancer !== "string" || !Array.isArray(v.members)) {
    throw new Error("not a cluster state: expected {balancer, members}");
  }
  return {
    balancer: v.balancer,
    members: v.members,
    databaseUrl: typeof v.databaseUrl === "string" && v.databaseUrl ? v.databaseUrl : undefined,
    schema: typeof v.schema === "string" && v.schema ? v.schema : undefined,
  };
}

export async function defaultBalancerUrl(): Promise<string> {
  return (await readClusterState())?.balancer ?? DEFAULT_BALANCER_URL;
}

/** The PID of a node, as last written by the launcher. */
export function nodePid(state: ClusterState | null, name: string): number | null {
  return state?.members.find((m) => m.kind === "node" && m.name === name)?.pid ?? null;
}
