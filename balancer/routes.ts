import { CODE_ALPHABET, parseLobbyCode } from "../shared/lobby-code.js";
import type { RequestTarget } from "./path-guard.js";

/**
 * The balancer's public routes: a strict, case-sensitive allowlist. A path
 * under /api or /ws that is not listed is a 404 here and never reaches a
 * node, so node-only routes (`/metrics`, `/healthz`, `/readyz` of a node,
 * anything `/internal/...`) cannot be reached through the balancer. The path
 * that is forwarded is rebuilt from the route, with the canonical lobby code.
 */

/** What a node serves: `lobby` goes to the code's owner, `any` to any node. */
export type Forwarded =
  | { kind: "lobby"; code: string; path: string; limit?: "join" }
  | { kind: "create"; path: string }
  | { kind: "any"; path: string };

export type Route =
  | { kind: "forward"; to: Forwarded }
  /** GET /api/lobbies: the directory, JSON from a node or the live feed from the balancer. */
  | { kind: "directory"; json: Forwarded }
  | { kind: "ws"; code: string; path: string }
  | { kind: "probe"; name: "healthz" | "readyz" | "metrics" }
  | { kind: "admin" }
  /** Not an API path: the static pages (or their 404). */
  | { kind: "page" }
  | { kind: "refused"; status: 400 | 404 | 405 | 426; error: string; message: string; allow?: string };

type Handler = (code: string | undefined, path: string) => Route;

type ApiRoute = { pattern: readonly string[]; methods: Readonly<Record<string, Handler>> };

const forward = (to: Forwarded): Route => ({ kind: "forward", to });
const anyNode: Handler = (_code, path) => forward({ kind: "any", path });
const lobby: Handler = (code, path) => forward({ kind: "lobby", code: code as string, path });

const API_ROUTES: readonly ApiRoute[] = [
  {
    pattern: ["api", "lobbies"],
    methods: {
      GET: (_code, path) => ({ kind: "directory", json: { kind: "any", path } }),
      HEAD: anyNode,
      POST: (_code, path) => forward({ kind: "create", path }),
    },
  },
  { pattern: ["api", "lobbies", ":code"], methods: { GET: lobby, HEAD: lobby } },
  {
    pattern: ["api", "lobbies", ":code", "join"],
    methods: { POST: (code, path) => forward({ kind: "lobby", code: code as string, path, limit: "join" }) },
  },
  { pattern: ["api", "stats"], methods: { GET: anyNode, HEAD: anyNode } },
  { pattern: ["api", "games"], methods: { GET: anyNode, HEAD: anyNode } },
];

const WS_PATTERN = ["ws", ":code"] as const;
const PROBES = new Set(["healthz", "readyz", "metrics"]);

/** The route of a plain (non-upgrade) request. */
export function routeRequest(method: string, target: RequestTarget): Route {
  const [first] = target.segments;
  const top = target.segments.length === 1 ? first : undefined;
  if (top !== undefined && PROBES.has(top)) {
    if (method !== "GET" && method !== "HEAD") return methodNotAllowed(method, target.path, "GET, HEAD");
    return { kind: "probe", name: top as "healthz" | "readyz" | "metrics" };
  }
  if (first === "admin") return { kind: "admin" };
  if (first === "api") return routeApi(method, target);
  if (first === "ws") {
    const match = matchPattern(WS_PATTERN, target);
    if (!match) return notFound(method, target.path);
    if (match.code === null) return badCode(match.raw);
    return refused(
      426,
      "upgrade_required",
      `${target.path} is a WebSocket endpoint: send an Upgrade: websocket request`,
    );
  }
  return { kind: "page" };
}

/** The route of an upgrade request: only `GET /ws/:code`. */
export function routeUpgrade(method: string, target: RequestTarget): Route {
  const match = target.segments[0] === "ws" ? matchPattern(WS_PATTERN, target) : null;
  if (!match) return refused(404, "not_found", `no WebSocket route ${target.path}`);
  if (!match.code) return badCode(match.raw);
  if (method !== "GET") return methodNotAllowed(method, target.path, "GET");
  return { kind: "ws", code: match.code, path: match.path };
}

function routeApi(method: string, target: RequestTarget): Route {
  for (const route of API_ROUTES) {
    const match = matchPattern(route.pattern, target);
    if (!match) continue;
    if (match.code === null) return badCode(match.raw);
    // Own properties only: a method named like an Object.prototype member is no handler.
    const handler = Object.hasOwn(route.methods, method) ? route.methods[method] : undefined;
    if (!handler) return methodNotAllowed(method, target.path, Object.keys(route.methods).join(", "));
    return handler(match.code ?? undefined, match.path);
  }
  return notFound(method, target.path);
}

/** `code`: the canonical code, null when the segment is not a code, undefined when the pattern has none. */
type Match = { code: string | null | undefined; raw: string; path: string };

/**
 * Literal segments must be equal (case-sensitive); `:code` takes any segment,
 * and `code` is null when that segment is not a lobby code. The path to
 * forward is the pattern with the canonical code, plus the query as sent.
 */
function matchPattern(pattern: readonly string[], target: RequestTarget): Match | null {
  if (pattern.length !== target.segments.length) return null;
  let code: string | null | undefined;
  let raw = "";
  const parts: string[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i] as string;
    const got = target.segments[i] as string;
    if (want === ":code") {
      raw = got;
      code = parseLobbyCode(got);
      parts.push(code ?? "");
    } else if (want === got) parts.push(want);
    else return null;
  }
  return { code, raw, path: `/${parts.join("/")}${target.query}` };
}

function badCode(raw: string): Route {
  return refused(
    400,
    "bad_code",
    `${JSON.stringify(raw.slice(0, 40))} is not a lobby code (6 characters from ${CODE_ALPHABET})`,
  );
}

function notFound(method: string, path: string): Route {
  return refused(404, "not_found", `no route ${method} ${path.slice(0, 200)}`);
}

function methodNotAllowed(method: string, path: string, allow: string): Route {
  return { ...refused(405, "method_not_allowed", `${method} is not allowed on ${path.slice(0, 200)}`), allow } as Route;
}

function refused(status: 400 | 404 | 405 | 426, error: string, message: string): Route {
  return { kind: "refused", status, error, message };
}
