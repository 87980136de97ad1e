import { type OutgoingHttpHeaders, type ServerResponse, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";

/**
 * Every answer the balancer makes itself is JSON with `error` and `message`,
 * on a normal response or, for a WebSocket upgrade that cannot go through,
 * written by hand on the raw socket.
 */

export type ErrorBody = { error: string; message: string; [extra: string]: unknown };

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const json = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(json),
    "cache-control": "no-store",
  });
  res.end(json);
}

export function sendError(
  res: ServerResponse,
  status: number,
  error: string,
  message: string,
  headers: OutgoingHttpHeaders = {},
): void {
  sendJson(res, status, { error, message } satisfies ErrorBody, headers);
}

/** The answer to a node that could not be reached: clients retry after a second, never hang. */
export function nodeUnavailable(detail: string): { status: number; body: ErrorBody; headers: OutgoingHttpHeaders } {
  return {
    status: 503,
    body: { error: "node_unavailable", message: `the lobby's node is unavailable (${detail}); retry shortly` },
    headers: { "retry-after": "1" },
  };
}

/** An HTTP response on a socket that asked for an upgrade; the socket is closed afterwards. */
export function writeSocketResponse(
  socket: Duplex,
  status: number,
  body: string | Buffer,
  headers: OutgoingHttpHeaders = {},
): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const payload = typeof body === "string" ? Buffer.from(body) : body;
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Unknown"}`];
  for (const [name, value] of Object.entries({ ...headers, "content-length": payload.length, connection: "close" })) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${String(v).replace(/[\r\n]/g, "")}`);
  }
  socket.end(Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`), payload]));
  // end() flushes first; destroy soon after in case the peer never reads.
  setTimeout(() => socket.destroy(), 1000).unref();
}

export function writeSocketError(
  socket: Duplex,
  status: number,
  error: string,
  message: string,
  headers: OutgoingHttpHeaders = {},
): void {
  writeSocketResponse(socket, status, JSON.stringify({ error, message } satisfies ErrorBody), {
    ...headers,
    "content-type": "application/json; charset=utf-8",
  });
}
