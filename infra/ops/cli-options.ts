import { InvalidArgumentError } from "commander";
import { DEV_ADMIN_TOKEN } from "../../shared/config.js";
import { AdminClient } from "./admin-client.js";
import { defaultBalancerUrl } from "./cluster-state.js";

/** Parsing and defaults of the ops CLI's options, shared by its commands. */

export type GlobalOptions = { url?: string; token?: string; json?: boolean };

export function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (raw: string): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}, got "${raw}"`);
    }
    return value;
  };
}

/** --url, else the balancer npm start wrote to .data/cluster.json, else the default port. */
export async function resolveUrl(opts: GlobalOptions): Promise<string> {
  const url = opts.url ?? (await defaultBalancerUrl());
  try {
    return new URL(url).toString().replace(/\/$/, "");
  } catch {
    throw new InvalidArgumentError(`--url: not a URL: "${url}"`);
  }
}

export function resolveToken(opts: GlobalOptions): string {
  return opts.token ?? process.env.RINGSIDE_ADMIN_TOKEN ?? DEV_ADMIN_TOKEN;
}

export async function adminClientFor(opts: GlobalOptions): Promise<AdminClient> {
  return new AdminClient(await resolveUrl(opts), resolveToken(opts));
}
