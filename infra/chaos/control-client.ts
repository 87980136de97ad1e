import type { ControlSignal, MemberView, PostgresView } from "../cluster/control-api.js";

/**
 * The launcher's control API (infra/cluster/control-api.ts) over HTTP, with
 * the admin token: the chaos soak's hands on the cluster's processes.
 */

export type ControlState = { members: MemberView[]; postgres: PostgresView };

const REQUEST_TIMEOUT_MS = 10_000;
/** Starting a member waits until it listens: a cold tsx start on a loaded machine can take a while. */
const START_TIMEOUT_MS = 90_000;

export class ControlClient {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  state(): Promise<ControlState> {
    return this.request<ControlState>("GET", "/control");
  }

  signal(member: string, signal: ControlSignal): Promise<MemberView> {
    return this.request<MemberView>("POST", `/control/members/${encodeURIComponent(member)}/signal`, { signal });
  }

  start(member: string): Promise<MemberView> {
    return this.request<MemberView>(
      "POST",
      `/control/members/${encodeURIComponent(member)}/start`,
      undefined,
      START_TIMEOUT_MS,
    );
  }

  stallPostgres(stalled: boolean): Promise<PostgresView> {
    return this.request<PostgresView>("POST", `/control/postgres/${stalled ? "stall" : "unstall"}`);
  }

  private async request<T>(method: string, path: string, body?: unknown, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.url), {
        method,
        headers: { authorization: `Bearer ${this.token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new Error(
        `cannot reach the launcher's control API at ${this.url}: ${err instanceof Error ? err.message : err}`,
      );
    }
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
    return JSON.parse(text) as T;
  }
}
