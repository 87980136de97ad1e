import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { TLSSocket } from "node:tls";

/** Header handling shared by the HTTP and WebSocket forwarders. */

/** Every node answer names the node; the balancer passes it on (and adds it if missing). */
export const NODE_HEADER = "x-ringside-node";

const HOP_BY_HOP_NAMES = new Set([
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "trailers",
  "transfer-encoding",
  "upgrade",
]);

/** Connection-level headers: they describe one hop and must not be passed on (RFC 9110, 7.6.1). Names in lower case. */
export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP_NAMES.has(name) || name.startsWith("proxy-");
}

const NONE: ReadonlySet<string> = new Set();

/** Extra hop-by-hop names a peer listed in its Connection header. */
export function hopByHopNames(connection: string | string[] | undefined): ReadonlySet<string> {
  if (connection === undefined) return NONE;
  const value = Array.isArray(connection) ? connection.join(",") : (connection ?? "");
  return new Set(
    value
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
}

/**
 * Makes a client's headers fit for a node: hop-by-hop and internal
 * (`x-ringside-*`, which only the balancer may set) headers go, the body was
 * buffered so `expect` goes, and x-forwarded-* say who the client is. Client
 * values of x-forwarded-* are kept only behind a trusted proxy.
 */
export function prepareHeaders(req: IncomingMessage, trustProxy: boolean): void {
  const headers: IncomingHttpHeaders = req.headers;
  const listed = hopByHopNames(headers.connection);
  for (const name of Object.keys(headers)) {
    if (isHopByHop(name) || listed.has(name) || name.startsWith("x-ringside-") || name === "expect") {
      delete headers[name];
    }
  }
  const client = req.socket.remoteAddress ?? "";
  const proto = req.socket instanceof TLSSocket ? "https" : "http";
  const priorFor = trustProxy ? headers["x-forwarded-for"] : undefined;
  headers["x-forwarded-for"] = priorFor ? `${priorFor}, ${client}` : client;
  headers["x-forwarded-proto"] = (trustProxy && headers["x-forwarded-proto"]) || proto;
  headers["x-forwarded-host"] = (trustProxy && headers["x-forwarded-host"]) || headers.host || "";
}

const MISDIRECTED_BODY_LIMIT = 16 * 1024;

/** Reads a node's 421 answer to the end and returns the owner it names (null when none or unreadable). */
export async function readMisdirected(res: IncomingMessage): Promise<string | null> {
  const body = await readLimited(res, MISDIRECTED_BODY_LIMIT);
  return body === null ? null : parseOwner(body.toString("utf8"));
}

/** A short answer's body, whole (bytes past `limit` are dropped); null if the node broke off. */
export function readLimited(res: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    res.on("end", () => resolve(Buffer.concat(chunks)));
    // After "end" this is a no-op; before it, the node broke off.
    res.on("close", () => resolve(null));
    res.on("error", () => resolve(null));
  });
}

export function parseOwner(json: string): string | null {
  try {
    const owner: unknown = (JSON.parse(json) as { owner?: unknown } | null)?.owner;
    return typeof owner === "string" && owner.length > 0 ? owner : null;
  } catch {
    return null;
  }
}

/**
 * A request head's size as Node's HTTP parser counts it against
 * --max-http-header-size: the URL, every header name and every value, without
 * the separators (measured: a 16,412-byte head passes a default node, one more
 * byte of value does not).
 */
export function requestHeadBytes(path: string, headers: IncomingHttpHeaders): number {
  let bytes = Buffer.byteLength(path);
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) bytes += name.length + Buffer.byteLength(v);
  }
  return bytes;
}
