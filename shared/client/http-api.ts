import type { GameInfo, LobbyResource } from "../wire.js";
import { Backoff } from "./backoff.js";
import { randomId } from "./random-id.js";

export type CreatedLobby = { code: string; playerId: string; token: string; game: string };
export type JoinedLobby = { playerId: string; token: string; game: string };
export type ClusterStats = { nodes: number; lobbies: number; players: number };
export type { GameInfo };
export type CreateOptions = {
  /** A game id from listGames(); omitted: the cluster's default game. */
  game?: string;
  /** The game's options (checked by its schema). */
  options?: Record<string, unknown>;
};

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

  /**
   * Creates a lobby. Retried like a join when the answer is lost or a node
   * answers 503: the balancer picks a new code for each attempt, so a create
   * whose first answer was lost leaves an empty lobby behind, which nobody
   * can join by accident and the lobby lifecycle closes.
   */
  createLobby(name: string, create: CreateOptions = {}): Promise<CreatedLobby> {
    return this.request("POST", "/api/lobbies", { name, ...create }, randomId());
  }

  /**
   * Joins a lobby. The request carries an Idempotency-Key, so retrying it
   * (the answer was lost, or a 503 came after the join committed) gets the
   * same player back instead of seating a ghost.
   */
  joinLobby(code: string, name: string): Promise<JoinedLobby> {
    return this.request("POST", `/api/lobbies/${encodeURIComponent(code)}/join`, { name }, randomId());
  }

  getLobby<S = unknown>(code: string): Promise<LobbyResource<S>> {
    return this.request("GET", `/api/lobbies/${encodeURIComponent(code)}`);
  }

  async listGames(): Promise<GameInfo[]> {
    const { games } = await this.request<{ games: GameInfo[] }>("GET", "/api/games");
    return games;
  }

  listLobbies(): Promise<unknown> {
    return this.request("GET", "/api/lobbies");
  }

  stats(): Promise<ClusterStats> {
    return this.request("GET", "/api/stats");
  }

  private async request<T>(method: Method, path: string, body?: unknown, idempotencyKey?: string): Promise<T> {
    const backoff = new Backoff({ initialMs: this.retry.initialMs, maxMs: this.retry.maxMs });
    // A GET, or a POST with an idempotency key, may be sent again whatever happened to the first.
    const repeatable = method === "GET" || idempotencyKey !== undefined;
    for (let attempt = 1; ; attempt++) {
      const lastAttempt = attempt >= this.retry.attempts;
      let response: Response;
      try {
        response = await this.fetchImpl(this.baseUrl + path, requestInit(method, body, idempotencyKey));
      } catch (error) {
        // A POST that failed in flight may have reached a node; repeating it could apply it twice.
        if (!repeatable || lastAttempt) throw error;
        await sleep(backoff.next());
        continue;
      }
      if (response.ok) return (await readBody(response)) as T;
      if (lastAttempt || !isRetryable(response, repeatable)) throw await httpError(method, path, response);
      await response.arrayBuffer().catch(() => undefined); // frees the connection for the retry
      await sleep(retryAfterMs(response) ?? backoff.next());
    }
  }
}

function requestInit(method: Method, body: unknown, idempotencyKey: string | undefined): RequestInit {
  const headers: Record<string, string> = { accept: "application/json" };
  if (idempotencyKey !== undefined) headers["idempotency-key"] = idempotencyKey;
  if (body === undefined) return { method, headers };
  headers["content-type"] = "application/json";
  return { method, headers, body: JSON.stringify(body) };
}

/**
 * What is worth another try. A 503 without `x-ringside-node` came from the
 * balancer and never reached a node, so even a plain POST is safe to repeat;
 * a node's 503 may come after its work committed, so only repeatable requests
 * (GETs, keyed POSTs) retry it.
 */
function isRetryable(response: Response, repeatable: boolean): boolean {
  const { status } = response;
  const fromBalancer = !response.headers.has("x-ringside-node");
  if ((status === 503 || status === 429) && (repeatable || fromBalancer)) return true;
  return repeatable && (status === 502 || status === 504);
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
