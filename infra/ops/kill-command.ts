import { spawn } from "node:child_process";

/**
 * The drill's way to kill a node that is not a local process (a pod, a VM):
 * an operator's command template, run by /bin/sh, with `{node}` replaced by
 * the victim's id, e.g.
 *   --kill-command 'kubectl delete pod {node} --grace-period=0 --force'
 * The id is shell-quoted where it is put in, and also given as
 * $RINGSIDE_VICTIM, so a template can never be made to run something else
 * by a node's name.
 */

export const NODE_PLACEHOLDER = "{node}";
const KILL_TIMEOUT_MS = 30_000;

/** Single quotes keep everything literal in sh; a quote inside is closed, escaped and reopened. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function fillKillCommand(template: string, node: string): string {
  return template.split(NODE_PLACEHOLDER).join(shellQuote(node));
}

/** Runs the filled template; resolves when it exits 0, rejects with its output otherwise. */
export function runKillCommand(template: string, node: string, timeoutMs = KILL_TIMEOUT_MS): Promise<void> {
  const command = fillKillCommand(template, node);
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", command], {
      env: { ...process.env, RINGSIDE_VICTIM: node },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: timeoutMs,
    });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-2000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.once("error", (err) => reject(new Error(`kill command \`${command}\` could not run: ${err.message}`)));
    child.once("exit", (code, signal) => {
      if (code === 0) return resolve();
      const how = signal ? `was stopped by ${signal} (timeout ${timeoutMs} ms?)` : `exited ${code}`;
      reject(new Error(`kill command \`${command}\` ${how}${output.trim() ? `: ${output.trim()}` : ""}`));
    });
  });
}
