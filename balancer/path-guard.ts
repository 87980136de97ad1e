/**
 * Parses a request target once, as the bytes the client sent, and refuses
 * anything another parser could read differently. http-proxy-3 and the node
 * both resolve dot segments (`/api/x/../../metrics` becomes `/metrics`, and
 * `%2e%2e` too), so a path the balancer routed one way could reach another
 * route behind it. Here such a path never gets that far: it is a 400, and
 * what is forwarded is rebuilt from the route (see routes.ts), never the
 * client's string.
 */

/** A path that is safe to route: its decoded segments, and the query to pass on as is. */
export type RequestTarget = {
  /** The raw path, without the query. */
  path: string;
  /** Percent-decoded segments, without the leading empty one: `/api/lobbies` -> ["api", "lobbies"]. */
  segments: string[];
  /** `?...` exactly as sent, or "". */
  query: string;
};

export type TargetCheck = { ok: true; target: RequestTarget } | { ok: false; message: string };

/** RFC 3986 pchar plus "/": unreserved, sub-delims, ":", "@", and "%" (escapes are checked on their own). */
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;
/** The query may also hold "?"; a "#" (a fragment is never sent) or a backslash is refused. */
const QUERY_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%?[\]|{}^`"<>]*$/;
/** "%" must start an escape of two hex digits. */
const BROKEN_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
/** Escapes of ".", "/", "\" and control bytes: each is a way to hide a segment boundary or a dot segment. */
const FORBIDDEN_ESCAPE = /%(?:2[eEfF]|5[cC]|[01][0-9A-Fa-f]|7[fF])/;

export function checkRequestTarget(raw: string | undefined): TargetCheck {
  const target = raw ?? "";
  // Absolute-form (`http://host/path`) and `*` are for proxies and OPTIONS: not served here.
  if (!target.startsWith("/")) return refuse("the request target must be a path starting with /");
  const q = target.indexOf("?");
  const path = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? "" : target.slice(q);
  if (!PATH_CHARS.test(path)) return refuse("the path holds a character that must be percent-encoded");
  if (BROKEN_ESCAPE.test(path)) return refuse("the path holds a % that does not start an escape of two hex digits");
  if (FORBIDDEN_ESCAPE.test(path)) return refuse("the path holds an encoded dot, slash, backslash or control byte");
  if (!QUERY_CHARS.test(query.slice(1))) return refuse("the query holds a character that is not allowed");
  const raws = path.slice(1).split("/");
  const segments: string[] = [];
  for (let i = 0; i < raws.length; i++) {
    const segment = raws[i] ?? "";
    // Only the last segment may be empty (a trailing slash, or "/" itself): "//" is refused.
    if (segment === "" && i < raws.length - 1) return refuse("the path holds an empty segment (//)");
    if (segment === "." || segment === "..") return refuse("the path holds a dot segment (. or ..)");
    const decoded = decode(segment);
    if (decoded === null) return refuse("the path holds an escape that is not UTF-8");
    segments.push(decoded);
  }
  return { ok: true, target: { path, segments, query } };
}

function decode(segment: string): string | null {
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

function refuse(message: string): TargetCheck {
  return { ok: false, message };
}
