/**
 * The admin API as the ops page uses it: every call carries the bearer
 * token, a 401 becomes an UnauthorizedError (the page asks for the token
 * again), and other failures carry the balancer's own message.
 */

import type { AdminNode, AdminRing, HistoryEntry } from "../../shared/admin-types.js";

export type { HistoryEntry };
export type NodeView = AdminNode;
export type RingView = AdminRing;

export type ClusterStats = { nodes: number; lobbies: number; players: number };

export class UnauthorizedError extends Error {
  override readonly name = "UnauthorizedError";
}

export class AdminApi {
  constructor(private readonly token: string) {}

  ring(): Promise<RingView> {
    return this.json("GET", "/admin/ring");
  }

  async ringSvg(): Promise<string> {
    return (await this.call("GET", "/admin/ring?format=svg")).text();
  }

  async history(limit = 30): Promise<HistoryEntry[]> {
    return (await this.json<{ history: HistoryEntry[] }>("GET", `/admin/history?limit=${limit}`)).history;
  }

  async setWeight(id: string, weight: number): Promise<void> {
    await this.call("PUT", `/admin/nodes/${encodeURIComponent(id)}/weight`, { weight });
  }

  async drain(id: string): Promise<void> {
    await this.call("POST", `/admin/nodes/${encodeURIComponent(id)}/drain`);
  }

  async rebalance(): Promise<void> {
    await this.call("POST", "/admin/rebalance");
  }

  async announce(text: string): Promise<void> {
    await this.call("POST", "/admin/announce", { text });
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await (await this.call(method, path, body)).json()) as T;
  }

  private async call(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) throw new UnauthorizedError("the balancer refused this admin token");
    if (!response.ok) throw new Error(await failure(response));
    return response;
  }
}

/** Public: no token needed. */
export async function clusterStats(): Promise<ClusterStats> {
  const response = await fetch("/api/stats", { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(await failure(response));
  return (await response.json()) as ClusterStats;
}

async function failure(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  try {
    const { message } = JSON.parse(text) as { message?: unknown };
    if (typeof message === "string") return message;
  } catch {
    // not JSON: fall through to the status line
  }
  return `${response.status} ${response.statusText}`.trim();
}
