import type { LobbyResource } from "../protocol.js";
import { Backoff } from "./backoff.js";

export type CreatedLobby = { code: string; playerId: string; token: string };
export type JoinedLobby = { playerId: string; token: string };
export type ClusterStats = { nodes: number; lobbies: number; players: number };

export type RetryOptions = {
  /** Tries per request, the first included (default 4). */
  attempts?: number;
  initialMs?: number;
  maxMs?: number;
};

export type RingsideApiOptions = { fetch?: typeof fetch; retry?: RetryOptions };

type Method = "GET" | "POST";

/** Longest Retry-After we honour, so a bad header cannot stall a caller. */
const MAX_RETRY_AFTER_MS = 5000;

/** A non-2xx answer. `body` is the parsed JSON (`{error, message}`) or the raw text. */
export class RingsideHttpError extends Error {
  override readonly name = "RingsideHttpError";

  constructor(
    readonly status: number,
    readonly body: unknown,
    /** The node that answered (`x-ringside-node`), when one did. */
    readonly node: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** The balancer's public HTTP API. */
export class RingsideApi {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly retry: Required<RetryOptions>;

  constructor(baseUrl: string, opts: RingsideApiOptions = {}) {
    this.baseUrl = new URL(baseUrl).toString().replace(/\/+$/, "");
    // Called through a wrapper: browsers throw "Illegal invocation" for a detached fetch.
    this.fetchImpl = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.retry = { attempts: 4, initialMs: 100, maxMs: 2000, ...opts.retry };
  }

  createLobby(name: string): Promise<CreatedLobby> {
    return this.request("POST", "/api/lobbies", { name });
  }

  joinLobby(code: string, name: string): Promise<JoinedLobby> {
    return this.request("POST", `/api/lobbies/${encodeURIComponent(code)}/join`, { name });
  }

  getLobby(code: string): Promise<LobbyResource> {
    return this.request("GET", `/api/lobbies/${encodeURIComponent(code)}`);
  }

  listLobbies(): Promise<unknown> {
    return this.request("GET", "/api/lobbies");
  }

  stats(): Promise<ClusterStats> {
    return this.request("GET", "/api/stats");
  }

  private async request<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const backoff = new Backoff({ initialMs: this.retry.initialMs, maxMs: this.retry.maxMs });
    for (let attempt = 1; ; attempt++) {
      const lastAttempt = attempt >= this.retry.attempts;
      let response: Response;
      try {
        response = await this.fetchImpl(this.baseUrl + path, requestInit(method, body));
      } catch (error) {
        // A POST that failed in flight may have reached a node; repeating it could apply it twice.
        if (method !== "GET" || lastAttempt) throw error;
        await sleep(backoff.next());
        continue;
      }
      if (response.ok) return (await readBody(response)) as T;
      if (lastAttempt || !isRetryable(method, response.status)) throw await httpError(method, path, response);
      await response.arrayBuffer().catch(() => undefined); // frees the connection for the retry
      await sleep(retryAfterMs(response) ?? backoff.next());
    }
  }
}

function requestInit(method: Method, body: unknown): RequestInit {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body === undefined) return { method, headers };
  headers["content-type"] = "application/json";
  return { method, headers, body: JSON.stringify(body) };
}

/** A 503 from the balancer never reached a node, so even a POST is safe to repeat. */
function isRetryable(method: Method, status: number): boolean {
  if (status === 503) return true;
  return method === "GET" && (status === 502 || status === 504);
}

function retryAfterMs(response: Response): number | undefined {
  const header = response.headers.get("retry-after");
  if (header === null || header.trim() === "") return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  if (Number.isNaN(ms)) return undefined;
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function httpError(method: Method, path: string, response: Response): Promise<RingsideHttpError> {
  const body = await readBody(response).catch(() => undefined);
  const node = response.headers.get("x-ringside-node") ?? undefined;
  const detail = errorDetail(body) ?? response.statusText;
  const message = `${method} ${path} failed with ${response.status}${detail ? `: ${detail}` : ""}`;
  return new RingsideHttpError(response.status, body, node, message);
}

function errorDetail(body: unknown): string | undefined {
  if (typeof body === "string") return body.slice(0, 200) || undefined;
  if (typeof body !== "object" || body === null) return undefined;
  const { message, error } = body as { message?: unknown; error?: unknown };
  if (typeof message === "string") return message;
  return typeof error === "string" ? error : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
