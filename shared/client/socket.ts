/**
 * The part of the WebSocket API the SDK uses. Both the browser's WebSocket
 * and the `ws` package's class satisfy it, so Node callers pass `ws`.
 */

// Method syntax makes the parameter check bivariant, which lets handlers typed
// with either library's event classes fit these minimal event shapes.
type Handler<Event> = { bivarianceHack(event: Event): void }["bivarianceHack"];

export interface SocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type SocketConstructor = new (url: string) => SocketLike;

/** readyState of an open socket (the same in every implementation). */
export const SOCKET_OPEN = 1;

/** `GET /ws/:code?token=...[&since=...]` on the balancer, as a ws:/wss: URL. */
export function lobbySocketUrl(baseUrl: string, code: string, token: string, since?: number): string {
  const url = new URL(baseUrl);
  if (url.protocol === "https:") url.protocol = "wss:";
  else if (url.protocol === "http:") url.protocol = "ws:";
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/ws/${encodeURIComponent(code)}`;
  url.search = "";
  url.hash = "";
  url.searchParams.set("token", token);
  if (since !== undefined) url.searchParams.set("since", String(since));
  return url.toString();
}

/** The global WebSocket when the runtime has one (browsers, Node 22+). */
export function defaultSocketConstructor(): SocketConstructor {
  const global = (globalThis as { WebSocket?: SocketConstructor }).WebSocket;
  if (!global) {
    throw new Error("no global WebSocket in this runtime: pass one in options (e.g. WebSocket from the `ws` package)");
  }
  return global;
}
