import { readFile } from "node:fs/promises";
import { nodePid, readClusterState } from "./cluster-state.js";

/**
 * Choosing and killing the drill's victim. The PID comes from the launcher's
 * state file, which can be stale (a node restarted, or the cluster stopped),
 * so before SIGKILL we check the PID still runs a Ringside node: a drill
 * must never kill an unrelated process that reused the number.
 */

export type VictimChoice = { node?: string; random?: boolean };

/** `perNode` is [node, lobbies served] sorted most first. */
export function chooseVictim(perNode: readonly [string, number][], choice: VictimChoice): string {
  if (choice.node) return choice.node;
  const candidates = perNode.filter(([, n]) => n > 0);
  if (candidates.length === 0) throw new Error("no node serves any of the drill's lobbies: nothing to kill");
  const pick = choice.random ? candidates[Math.floor(Math.random() * candidates.length)] : candidates[0];
  return (pick as [string, number])[0];
}

export async function resolvePid(node: string, explicitPid?: number): Promise<number> {
  if (explicitPid !== undefined) return explicitPid;
  const state = await readClusterState();
  if (!state) {
    throw new Error(
      "no .data/cluster.json: start the cluster with `npm start`, or give the node's process id with --pid",
    );
  }
  const pid = nodePid(state, node);
  if (!pid) throw new Error(`.data/cluster.json has no running process for ${node} (it may be restarting)`);
  return pid;
}

/** Throws unless `pid` is alive and its command line is a Ringside node (Linux /proc; skipped elsewhere). */
export async function assertRingsideNode(pid: number): Promise<void> {
  let cmdline: string;
  try {
    cmdline = (await readFile(`/proc/${pid}/cmdline`, "utf8")).replace(/\0/g, " ");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" && process.platform === "linux") {
      throw new Error(`process ${pid} is not running`);
    }
    return;
  }
  if (!cmdline.includes("node/main.ts") && !cmdline.includes("node/main.js")) {
    throw new Error(`process ${pid} is not a Ringside node (${cmdline.trim().slice(0, 120)}); refusing to kill it`);
  }
}
