import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { EventBus } from "../shared/bus/index.js";
import { type AnnounceMessage, type MembershipMessage, type RebalanceMessage, Topic } from "../shared/bus/topics.js";
import { countLobbiesByOwner } from "../shared/db/lobbies.js";
import { listNodes, recentHistory, setNodeState, setNodeWeight } from "../shared/db/membership.js";
import type { Queryable } from "../shared/db/pool.js";
import type { KeyedLimiter } from "../shared/keyed-limiter.js";
import type { Logger } from "../shared/log.js";
import type { HealthProbe } from "./health-probe.js";
import { sendError, sendJson } from "./replies.js";
import { BodyError, readBody } from "./request-body.js";
import { renderRingSvg } from "./ring-svg.js";
import type { RoutingTable } from "./routing-table.js";

/**
 * The operators' API under /admin, behind the admin bearer token. It changes
 * Postgres (the source of truth) and announces the change on the bus; the
 * nodes and every balancer act on it from there.
 */

export type AdminDeps = {
  token: string;
  balancerId: string;
  db: Queryable;
  bus: EventBus;
  table: RoutingTable;
  probe: HealthProbe;
  refreshMembership: () => Promise<void>;
  logger: Logger;
  /** Failed logins per client address: a client out of tokens gets 429 before its token is even looked at. */
  authFailures: KeyedLimiter;
  /** Counts a client throttled for failed logins. */
  onThrottled: () => void;
};

const weightBody = z.object({ weight: z.number().int().min(0).max(100) });
const announceBody = z.object({ text: z.string().trim().min(1).max(500) });

class BadRequest extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Compares digests, so neither the token's content nor its length shows in the timing. */
export function isAuthorized(header: string | undefined, token: string): boolean {
  const given = /^Bearer (.+)$/i.exec(header ?? "")?.[1] ?? "";
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(given), digest(token)) && given.length > 0;
}

export async function handleAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  client: string,
  deps: AdminDeps,
): Promise<void> {
  const throttled = deps.authFailures.check(client);
  if (throttled) return tooManyFailures(res, throttled.retryAfterS, deps);
  if (!isAuthorized(req.headers.authorization, deps.token)) {
    const limited = deps.authFailures.take(client);
    if (limited) return tooManyFailures(res, limited.retryAfterS, deps);
    sendError(res, 401, "unauthorized", "admin routes need Authorization: Bearer <admin token>", {
      "www-authenticate": 'Bearer realm="ringside-admin"',
    });
    return;
  }
  try {
    await dispatch(req, res, url, deps);
  } catch (err) {
    if (err instanceof BadRequest) sendError(res, 400, err.code, err.message);
    else if (err instanceof BodyError) sendError(res, err.status, err.code, err.message, { connection: "close" });
    else {
      deps.logger.error({ err }, "admin request failed");
      sendError(res, 500, "internal", "the admin request failed; see the balancer log");
    }
  }
}

function tooManyFailures(res: ServerResponse, retryAfterS: number, deps: AdminDeps): void {
  deps.onThrottled();
  sendError(
    res,
    429,
    "too_many_failures",
    `too many failed admin logins from this address; retry in ${retryAfterS} s`,
    {
      "retry-after": String(retryAfterS),
    },
  );
}

async function dispatch(req: IncomingMessage, res: ServerResponse, url: URL, deps: AdminDeps): Promise<void> {
  const method = req.method ?? "GET";
  const path = url.pathname;
  const nodeRoute = /^\/admin\/nodes\/([^/]+)\/(weight|drain)$/.exec(path);
  if (method === "GET" && path === "/admin/ring") return ring(res, url, deps);
  if (method === "GET" && path === "/admin/nodes") return sendJson(res, 200, { nodes: await nodesView(deps) });
  if (method === "GET" && path === "/admin/history") return history(res, url, deps);
  if (method === "POST" && path === "/admin/announce") return announce(req, res, deps);
  if (nodeRoute && method === "PUT" && nodeRoute[2] === "weight") return weight(req, res, decode(nodeRoute[1]), deps);
  if (nodeRoute && method === "POST" && nodeRoute[2] === "drain") return drain(res, decode(nodeRoute[1]), deps);
  if (method === "POST" && path === "/admin/rebalance") return rebalance(res, deps);
  sendError(res, 404, "not_found", `no admin route ${method} ${path}`);
}

async function nodesView(deps: AdminDeps) {
  const [rows, counts] = await Promise.all([listNodes(deps.db), countLobbiesByOwner(deps.db)]);
  const lobbies = new Map(counts.map((c) => [c.owner, c.lobbies]));
  return rows.map((n) => ({
    ...n,
    suspect: deps.probe.state(n.id)?.suspect ?? false,
    probeFailures: deps.probe.state(n.id)?.failures ?? 0,
    lobbies: lobbies.get(n.id) ?? 0,
  }));
}

async function ring(res: ServerResponse, url: URL, deps: AdminDeps): Promise<void> {
  const nodes = await nodesView(deps);
  const snapshot = deps.table.snapshot();
  if (url.searchParams.get("format") === "svg") {
    const legend = nodes.map((n) => ({
      id: n.id,
      state: n.leaseValid ? n.state : `${n.state}, lease expired`,
      lobbies: n.lobbies,
    }));
    const svg = renderRingSvg(snapshot.members, legend);
    res.writeHead(200, { "content-type": "image/svg+xml; charset=utf-8", "cache-control": "no-store" });
    res.end(svg);
    return;
  }
  sendJson(res, 200, {
    balancer: deps.balancerId,
    fingerprint: snapshot.fingerprint,
    members: snapshot.members,
    nodes,
    exceptions: snapshot.exceptions,
  });
}

async function history(res: ServerResponse, url: URL, deps: AdminDeps): Promise<void> {
  const limit = Number(url.searchParams.get("limit") ?? 100);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new BadRequest("bad_request", "limit must be 1..1000");
  sendJson(res, 200, { history: await recentHistory(deps.db, limit) });
}

async function weight(req: IncomingMessage, res: ServerResponse, id: string, deps: AdminDeps): Promise<void> {
  const { weight } = await jsonBody(req, weightBody);
  if (!(await setNodeWeight(deps.db, id, weight))) return sendError(res, 404, "unknown_node", `no live node ${id}`);
  const node = (await listNodes(deps.db)).find((n) => n.id === id);
  if (node && node.state !== "dead") await publishMembership(deps, { nodeId: id, state: node.state, reason: "weight" });
  await deps.refreshMembership();
  sendJson(res, 200, { id, weight });
}

async function drain(res: ServerResponse, id: string, deps: AdminDeps): Promise<void> {
  if (!(await setNodeState(deps.db, id, ["active"], "draining"))) {
    const node = (await listNodes(deps.db)).find((n) => n.id === id);
    if (!node) return sendError(res, 404, "unknown_node", `no node ${id}`);
    return sendError(res, 409, "not_active", `node ${id} is ${node.state}; only an active node can drain`);
  }
  deps.logger.info({ node: id }, "drain requested");
  await publishMembership(deps, { nodeId: id, state: "draining", reason: "admin drain" });
  await deps.refreshMembership();
  sendJson(res, 202, { id, state: "draining" });
}

/** Every node hands the lobbies it serves off its ring position to their ring owners (gracefully, one by one). */
async function rebalance(res: ServerResponse, deps: AdminDeps): Promise<void> {
  const message: RebalanceMessage = { requestedBy: deps.balancerId, at: new Date().toISOString() };
  await deps.bus.publish(Topic.Rebalance, message);
  const exceptions = deps.table.snapshot().exceptions.length;
  deps.logger.info({ exceptions }, "rebalance requested");
  sendJson(res, 202, { ...message, exceptions });
}

async function announce(req: IncomingMessage, res: ServerResponse, deps: AdminDeps): Promise<void> {
  const { text } = await jsonBody(req, announceBody);
  const message: AnnounceMessage = { text, at: new Date().toISOString() };
  await deps.bus.publish(Topic.Announce, message);
  sendJson(res, 202, message);
}

async function publishMembership(deps: AdminDeps, message: MembershipMessage): Promise<void> {
  await deps.bus.publish(Topic.Membership, message).catch((err: unknown) => {
    // Postgres has the change; the others pick it up on their next read.
    deps.logger.warn({ err }, "could not publish membership change");
  });
}

async function jsonBody<T>(req: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  const raw = await readBody(req);
  let value: unknown;
  try {
    value = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new BadRequest("bad_json", "the request body is not valid JSON");
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
    throw new BadRequest("bad_request", detail);
  }
  return parsed.data;
}

function decode(segment: string | undefined): string {
  try {
    return decodeURIComponent(segment ?? "");
  } catch {
    throw new BadRequest("bad_request", "malformed node id in the path");
  }
}
