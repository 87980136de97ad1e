import type { ErrorCode } from "../wire.js";

/** The server refused an action (`{"type":"error","id",...}`); it was not applied. */
export class ActionRejectedError extends Error {
  override readonly name = "ActionRejectedError";

  constructor(
    readonly id: string,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * No ack arrived in time. The action is no longer re-sent, but the server may
 * still have applied it: a later `event` tells.
 */
export class ActionTimeoutError extends Error {
  override readonly name = "ActionTimeoutError";

  constructor(
    readonly id: string,
    readonly timeoutMs: number,
  ) {
    super(`no ack for action ${id} within ${timeoutMs} ms`);
  }
}

/** The connection ended for good (closed by the client, replaced, refused). */
export class ConnectionClosedError extends Error {
  override readonly name = "ConnectionClosedError";

  constructor(readonly reason: string) {
    super(`lobby connection closed: ${reason}`);
  }
}
