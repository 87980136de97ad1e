import type { IncomingMessage } from "node:http";

/**
 * Reads a request body into memory before it is forwarded: a buffered body
 * can be sent again when a node answers 421, and a slow or huge upload is
 * stopped here instead of tying up a node.
 */

export const BODY_LIMIT_BYTES = 64 * 1024;
export const BODY_TIMEOUT_MS = 10_000;
const EMPTY = Buffer.alloc(0);

export class BodyError extends Error {
  constructor(
    readonly status: 408 | 413 | 400,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function readBody(req: IncomingMessage, limit = BODY_LIMIT_BYTES, timeoutMs = BODY_TIMEOUT_MS): Promise<Buffer> {
  const length = req.headers["content-length"];
  // Most requests (GET) have no body at all: no need to wait for the stream's end.
  if ((length === undefined || length === "0") && req.headers["transfer-encoding"] === undefined) {
    return Promise.resolve(EMPTY);
  }
  if (Number(length ?? 0) > limit) return Promise.reject(tooLarge(limit));
  if (req.readableEnded) return Promise.resolve(EMPTY);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(
      () => finish(new BodyError(408, "body_timeout", `request body not received within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) finish(tooLarge(limit));
      else chunks.push(chunk);
    };
    const onEnd = () => finish(null);
    const onError = (err: Error) => finish(new BodyError(400, "bad_request", `request body failed: ${err.message}`));
    const onAborted = () => finish(new BodyError(400, "bad_request", "request aborted"));
    function finish(err: BodyError | null): void {
      clearTimeout(timer);
      req.off("data", onData).off("end", onEnd).off("error", onError).off("close", onAborted);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks, size));
    }
    req.on("data", onData).on("end", onEnd).on("error", onError).on("close", onAborted);
  });
}

function tooLarge(limit: number): BodyError {
  return new BodyError(413, "body_too_large", `request body over ${limit} bytes`);
}
