import type { IncomingMessage } from "node:http";

/**
 * Who a request comes from, for per-client limits. The socket's address,
 * unless RINGSIDE_TRUST_PROXY is on: then the balancer sits behind exactly
 * one proxy of ours, and the last X-Forwarded-For entry is the address that
 * proxy saw (entries before it are whatever the client wrote, so never
 * trusted). IPv6 clients are keyed by their /64: one host usually holds a
 * whole /64, and keying by full address would give it 2^64 buckets.
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const socketAddress = req.socket.remoteAddress ?? "unknown";
  if (!trustProxy) return limitKey(socketAddress);
  const header = req.headers["x-forwarded-for"];
  const value = Array.isArray(header) ? header.join(",") : (header ?? "");
  const last = value.split(",").at(-1)?.trim();
  return limitKey(last || socketAddress);
}

/** `::ffff:1.2.3.4` -> `1.2.3.4`; any other IPv6 address -> its first four groups (`2001:db8:0:1::/64`). */
export function limitKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (!address.includes(":")) return address;
  const groups = expandIpv6(address.split("%")[0] ?? "");
  return groups ? `${groups.slice(0, 4).join(":")}::/64` : address;
}

function expandIpv6(address: string): string[] | null {
  const halves = address.toLowerCase().split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  const groups = [...head, ...Array<string>(missing).fill("0"), ...tail];
  return groups.every((g) => /^[0-9a-f]{1,4}$/.test(g)) ? groups.map((g) => g.replace(/^0+(?=.)/, "")) : null;
}
