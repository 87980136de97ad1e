/**
 * The balancer's admin API (/admin/*) over HTTP, with the bearer token.
 * Every failure becomes an AdminError carrying the HTTP status and the
 * server's own message, so the CLI can print it as is.
 */

import type { AdminNode, AdminRing, HistoryEntry } from "../../shared/admin-types.js";

export type { AdminNode, AdminRing, HistoryEntry };

export class AdminError extends Error {
  override readonly name = "AdminError";

  constructor(
    /** 0 when the balancer could not be reached at all. */
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const REQUEST_TIMEOUT_MS = 10_000;

export class AdminClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async ring(): Promise<AdminRing> {
    return (await this.request("GET", "/admin/ring")).json() as Promise<AdminRing>;
  }

  async ringSvg(): Promise<string> {
    return (await this.request("GET", "/admin/ring?format=svg")).text();
  }

  async nodes(): Promise<AdminNode[]> {
    return ((await (await this.request("GET", "/admin/nodes")).json()) as { nodes: AdminNode[] }).nodes;
  }

  async setWeight(node: string, weight: number): Promise<{ id: string; weight: number }> {
    const res = await this.request("PUT", `/admin/nodes/${encodeURIComponent(node)}/weight`, { weight });
    return res.json() as Promise<{ id: string; weight: number }>;
  }

  async drain(node: string): Promise<{ id: string; state: string }> {
    const res = await this.request("POST", `/admin/nodes/${encodeURIComponent(node)}/drain`);
    return res.json() as Promise<{ id: string; state: string }>;
  }

  async rebalance(): Promise<{ exceptions: number; at: string }> {
    return (await this.request("POST", "/admin/rebalance")).json() as Promise<{ exceptions: number; at: string }>;
  }

  async announce(text: string): Promise<{ text: string; at: string }> {
    return (await this.request("POST", "/admin/announce", { text })).json() as Promise<{ text: string; at: string }>;
  }

  async history(limit = 50): Promise<HistoryEntry[]> {
    const res = await this.request("GET", `/admin/history?limit=${limit}`);
    return ((await res.json()) as { history: HistoryEntry[] }).history;
  }

  /** True when the balancer answers /readyz with 200 (public, no token). */
  async ready(): Promise<boolean> {
    try {
      const res = await fetch(new URL("/readyz", this.baseUrl), { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      return res.ok;
    } catch {
      return false;
    }
  }

  private async request(method: string, path: string, body?: unknown): Promise<Response> {
    const url = new URL(path, this.baseUrl);
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      throw new AdminError(
        0,
        `cannot reach the balancer at ${this.baseUrl}: ${causeOf(err)} (is \`npm start\` running?)`,
      );
    }
    if (!res.ok) throw new AdminError(res.status, `${method} ${url.pathname} failed: HTTP ${await errorText(res)}`);
    return res;
  }
}

/** The balancer answers errors as {"error","message"}; anything else is shown raw, shortened. */
async function errorText(res: Response): Promise<string> {
  const raw = await res.text().catch(() => "");
  try {
    const parsed = JSON.parse(raw) as { error?: string; message?: string };
    if (parsed.message) return `${res.status} ${parsed.error ?? res.statusText}: ${parsed.message}`;
  } catch {
    // not JSON: fall through
  }
  return `${res.status} ${res.statusText}${raw ? `: ${raw.slice(0, 200)}` : ""}`;
}

function causeOf(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? err.message;
  }
  return String(err);
}
