/**
 * Errors a request can end in, each with the HTTP status and JSON `error`
 * code the client sees. Anything else is a 500 `internal`.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  toJSON(): Record<string, unknown> {
    return { error: this.code, message: this.message, ...this.extra };
  }
}

export const lobbyNotFound = (code: string) => new ApiError(404, "lobby_not_found", `no lobby with code ${code}`);

/** 421 Misdirected Request: the balancer corrects its routing and retries on `owner`. */
export const notOwner = (code: string, owner: string | null) =>
  new ApiError(421, "not_owner", `lobby ${code} is served by ${owner ?? "another node"}`, { owner });

export const unavailable = (message: string) => new ApiError(503, "unavailable", message);

/** Failures that mean Postgres cannot be reached or answered too late, not that the request was wrong. */
const UNREACHABLE = [
  /timeout/i, // pg: "Query read timeout", "timeout expired", "timeout exceeded when trying to connect"
  /Connection terminated/i,
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH/,
  /canceling statement due to (statement|lock) timeout/,
  /the database system is (starting up|shutting down)/,
];

/**
 * A 503 `unavailable` (with Retry-After) for a database outage, so clients
 * retry instead of treating it as a bug; null for any other error.
 */
export function databaseUnavailable(err: unknown): ApiError | null {
  const message = err instanceof Error ? err.message : "";
  if (!UNREACHABLE.some((pattern) => pattern.test(message))) return null;
  return unavailable("the database is not answering; retry shortly");
}
