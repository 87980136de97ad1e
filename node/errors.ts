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
