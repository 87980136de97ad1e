import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { DEV_ADMIN_TOKEN, DEV_TOKEN_SECRET } from "../../shared/config.js";
import { within } from "../helpers/wait.js";

/**
 * Invariant 7 on real processes: a balancer or node started by hand (not by
 * npm start) with a development, short or missing secret exits non-zero at
 * once, and what it prints names the variable.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function start(entry: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const base = { ...process.env };
  for (const name of Object.keys(base)) if (name.startsWith("RINGSIDE_") || name === "NODE_ENV") delete base[name];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", entry], {
      cwd: ROOT,
      env: { ...base, PORT: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.once("exit", (code) => resolve({ code, output }));
  });
}

describe("no process runs with a development secret outside development mode", () => {
  const cases: [string, string, Record<string, string>][] = [
    ["balancer", "RINGSIDE_ADMIN_TOKEN", { NODE_ENV: "production", RINGSIDE_ADMIN_TOKEN: DEV_ADMIN_TOKEN }],
    ["balancer", "RINGSIDE_ADMIN_TOKEN", { NODE_ENV: "production" }],
    ["balancer", "RINGSIDE_ADMIN_TOKEN", {}],
    ["balancer", "RINGSIDE_ADMIN_TOKEN", { RINGSIDE_ADMIN_TOKEN: "too-short-Q1w2e3" }],
    ["balancer", "RINGSIDE_DEV", { NODE_ENV: "production", RINGSIDE_DEV: "1" }],
    ["node", "RINGSIDE_TOKEN_SECRET", { NODE_ENV: "production", RINGSIDE_TOKEN_SECRET: DEV_TOKEN_SECRET }],
    ["node", "RINGSIDE_TOKEN_SECRET", {}],
  ];

  // Started all at once (each is a process start and nothing more): the cases are judged one by one.
  let results: Promise<{ code: number | null; output: string }[]>;
  beforeAll(() => {
    results = Promise.all(cases.map(([kind, , env]) => within(start(`${kind}/main.ts`, env), `${kind} exit`, 55_000)));
  });

  it.each(cases.map((c, i) => [...c, i] as const))(
    "%s refuses to start without a real %s (%j)",
    async (_kind, variable, _env, i) => {
      const { code, output } = (await results)[i] as { code: number | null; output: string };
      expect(code).not.toBe(0);
      expect(code).not.toBeNull();
      expect(output).toContain(variable);
      expect(output).not.toContain('"msg":"listening"');
    },
  );
});
