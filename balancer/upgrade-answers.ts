import type { IncomingMessage, OutgoingHttpHeaders } from "node:http";
import { hopByHopNames, isHopByHop, NODE_HEADER } from "./proxy-headers.js";

/**
 * What the WebSocket forwarder makes of a node's answer to an upgrade: the
 * 101 head it writes to the client, and for a refusal the headers it relays
 * (the body is read with proxy-headers' readLimited). Plain functions of the answer, apart from ws-forwarder.ts so
 * that it holds only the life of an upgrade and its two sockets.
 */

/** The node's 101 answer, as the client must see it (raw header order and case kept). */
export function upgradeHead(res: IncomingMessage, nodeId: string): string {
  const lines = [`HTTP/1.1 101 ${res.statusMessage || "Switching Protocols"}`];
  let named = false;
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
    const name = res.rawHeaders[i] ?? "";
    if (name.toLowerCase() === NODE_HEADER) named = true;
    lines.push(`${name}: ${res.rawHeaders[i + 1] ?? ""}`);
  }
  if (!named && nodeId) lines.push(`${NODE_HEADER}: ${nodeId}`);
  return `${lines.join("\r\n")}\r\n\r\n`;
}

export function relayHeaders(res: IncomingMessage, nodeId: string): OutgoingHttpHeaders {
  const dropped = hopByHopNames(res.headers.connection);
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined && !isHopByHop(name) && !dropped.has(name) && name !== "content-length") {
      headers[name] = value;
    }
  }
  headers[NODE_HEADER] ??= nodeId;
  return headers;
}
