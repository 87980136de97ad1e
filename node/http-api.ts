import { bodyParser } from "@koa/bodyparser";
import Router from "@koa/router";
import Koa from "koa";
import { z } from "zod";
import { listPublicLobbies } from "../shared/db/lobbies.js";
import type { Pool } from "../shared/db/pool.js";
import { clusterStats } from "../shared/db/presence.js";
import type { GameCatalog } from "../shared/game/catalog.js";
import { parseLobbyCode } from "../shared/lobby-code.js";
import type { Logger } from "../shared/log.js";
import type { Registry } from "../shared/metrics.js";
import { MAX_NAME_CHARS, playerNameSchema } from "../shared/protocol.js";
import { signToken } from "../shared/token.js";
import type { LobbyResource } from "../shared/wire.js";
import { ApiError, databaseUnavailable } from "./errors.js";
import type { LiveLobby } from "./live-lobby.js";
import type { LobbyRegistry } from "./lobby-registry.js";

export type HttpApiOptions = {
  nodeId: string;
  pool: Pool;
  registry: LobbyRegistry;
  games: GameCatalog;
  tokenSecret: string;
  metrics: Registry;
  log: Logger;
  /** Whether this node serves lobbies now, and if not, why (/readyz). */
  readiness: () => { ready: boolean; reason?: string };
};

const joinBody = z.object({ name: playerNameSchema });
const createBody = z.object({
  name: playerNameSchema,
  game: z.string().min(1).max(40).optional(),
  options: z.record(z.string(), z.unknown()).optional(),
});
/** `Idempotency-Key`: a retried join with the same key gets the same player (IETF httpapi draft). */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-]{8,64}$/;

/** The node's HTTP API (the public contract's lobby routes, plus health and metrics). */
export function createHttpApi(opts: HttpApiOptions): Koa {
  const app = new Koa();
  app.on("error", () => {}); // errors are answered and logged by the middleware below
  app.use(async (ctx, next) => {
    ctx.set("x-ringside-node", opts.nodeId);
    try {
      await next();
    } catch (err) {
      answerError(ctx, err, opts.log);
    }
  });
  app.use(bodyParser({ enableTypes: ["json"], jsonLimit: "16kb", encoding: "utf-8", onError: undecodableBody }));
  const router = new Router({ strict: true, sensitive: true });
  addLobbyRoutes(router, opts);
  addProbeRoutes(router, opts);
  app.use(router.routes()).use(router.allowedMethods({ throw: true }));
  app.use((ctx) => {
    throw new ApiError(404, "not_found", `no route for ${ctx.method} ${ctx.path}`);
  });
  return app;
}

function addLobbyRoutes(router: Router, opts: HttpApiOptions): void {
  const { registry, tokenSecret } = opts;

  router.post("/api/lobbies", async (ctx) => {
    const body = parseBody(
      createBody,
      ctx.request.body,
      `{"name": "<1-${MAX_NAME_CHARS} characters>", "game"?, "options"?}`,
    );
    const requested = ctx.get("x-ringside-code");
    const code = requested ? parseLobbyCode(requested) : null;
    if (requested && !code) throw new ApiError(400, "bad_code", "x-ringside-code is not a lobby code");
    const host = { name: body.name, joinKey: idempotencyKey(ctx) };
    const { lobby, playerId } = await registry.create(code, host, body.game, body.options);
    ctx.status = 201;
    ctx.body = { code: lobby.code, playerId, token: signToken(tokenSecret, lobby.code, playerId), game: lobby.game.id };
  });

  router.post("/api/lobbies/:code/join", async (ctx) => {
    const code = requireCode(ctx.params.code);
    const { name } = parseBody(joinBody, ctx.request.body, `{"name": "<1-${MAX_NAME_CHARS} characters>"}`);
    const lobby = await registry.load(code);
    const playerId = await registry.join(lobby, name, idempotencyKey(ctx));
    ctx.body = { playerId, token: signToken(tokenSecret, code, playerId), game: lobby.game.id };
  });

  router.get("/api/lobbies/:code", async (ctx) => {
    const lobby = await registry.load(requireCode(ctx.params.code));
    ctx.body = lobbyResource(lobby, opts.nodeId);
  });

  router.get("/api/lobbies", async (ctx) => {
    ctx.body = { lobbies: await listPublicLobbies(opts.pool) };
  });

  router.get("/api/games", (ctx) => {
    ctx.body = { games: opts.games.list() };
  });

  router.get("/api/stats", async (ctx) => {
    ctx.body = await clusterStats(opts.pool);
  });
}

/**
 * The lobby as a spectator sees it, from memory: the owner holds every
 * socket of its lobbies, so it knows who is online without asking Postgres.
 */
function lobbyResource(lobby: LiveLobby, nodeId: string): LobbyResource {
  const view = lobby.committed.view({ playerId: null, seat: null });
  return {
    ...view,
    players: view.players.map((p) => ({ ...p, online: lobby.connections.has(p.id) })),
    node: nodeId,
    epoch: lobby.epoch,
  };
}

function addProbeRoutes(router: Router, opts: HttpApiOptions): void {
  router.get("/healthz", (ctx) => {
    ctx.body = { ok: true, node: opts.nodeId };
  });
  router.get("/readyz", (ctx) => {
    const { ready, reason } = opts.readiness();
    ctx.status = ready ? 200 : 503;
    ctx.body = { ready, node: opts.nodeId, lobbies: opts.registry.size, ...(reason ? { reason } : {}) };
  });
  router.get("/metrics", async (ctx) => {
    ctx.type = opts.metrics.contentType;
    ctx.body = await opts.metrics.metrics();
  });
}

function parseBody<T extends z.ZodType>(schema: T, body: unknown, shape: string): z.infer<T> {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? ` (${issue.path.join(".")}: ${issue.message})` : "";
    throw new ApiError(400, "bad_request", `body must be ${shape}${where}`);
  }
  return result.data;
}

function idempotencyKey(ctx: Koa.Context): string | undefined {
  const key = ctx.get("idempotency-key");
  if (key === "") return undefined;
  if (!IDEMPOTENCY_KEY.test(key))
    throw new ApiError(400, "bad_idempotency_key", "Idempotency-Key: 8-64 of A-Z a-z 0-9 _ -");
  return key;
}

function requireCode(raw: string | undefined): string {
  const code = parseLobbyCode(raw);
  if (!code) throw new ApiError(400, "bad_code", "not a lobby code");
  return code;
}

function answerError(ctx: Koa.Context, err: unknown, log: Logger): void {
  const error = asApiError(err, ctx, log);
  ctx.status = error.status;
  if (error.status === 503) ctx.set("Retry-After", "1");
  ctx.body = error.toJSON();
}

function asApiError(err: unknown, ctx: Koa.Context, log: Logger): ApiError {
  if (err instanceof ApiError) return err;
  if (isClientHttpError(err))
    return new ApiError(err.status, err.status === 413 ? "too_large" : "bad_request", err.message);
  const outage = databaseUnavailable(err);
  if (outage) {
    log.warn({ err: (err as Error).message, path: ctx.path }, "database unavailable");
    return outage;
  }
  log.error({ err, path: ctx.path }, "request failed");
  return new ApiError(500, "internal", "internal error");
}

/**
 * A body the parser could not read is the client's fault: bad JSON and sizes
 * carry a 4xx status already, but a body its Content-Encoding does not fit
 * (corrupt or truncated gzip, deflate, br) fails in zlib with none.
 */
function undecodableBody(err: Error): never {
  if (isClientHttpError(err)) throw err;
  throw new ApiError(400, "bad_request", "the request body could not be decoded as its Content-Encoding says");
}

/** Errors from the body parser and router (bad JSON, too large, wrong method) carry a 4xx status. */
function isClientHttpError(err: unknown): err is { status: number; message: string } {
  const status = (err as { status?: unknown })?.status;
  return typeof status === "number" && status >= 400 && status < 500;
}
