import { bodyParser } from "@koa/bodyparser";
import Router from "@koa/router";
import Koa from "koa";
import { z } from "zod";
import { listPublicLobbies } from "../shared/db/lobbies.js";
import type { Pool } from "../shared/db/pool.js";
import { clusterStats, lobbyPresence } from "../shared/db/presence.js";
import { parseLobbyCode } from "../shared/lobby-code.js";
import type { Logger } from "../shared/log.js";
import type { Registry } from "../shared/metrics.js";
import { MAX_NAME_CHARS } from "../shared/protocol.js";
import { signToken } from "../shared/token.js";
import { ApiError } from "./errors.js";
import type { LobbyRegistry } from "./lobby-registry.js";

export type HttpApiOptions = {
  nodeId: string;
  pool: Pool;
  registry: LobbyRegistry;
  tokenSecret: string;
  metrics: Registry;
  log: Logger;
  isReady: () => boolean;
  /** Streams the live lobby directory as server-sent events (GET /api/lobbies with Accept: text/event-stream). */
  directoryFeed?: (ctx: Koa.Context) => Promise<void>;
};

const nameBody = z.object({ name: z.string().trim().min(1).max(MAX_NAME_CHARS) });

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
  app.use(bodyParser({ enableTypes: ["json"], jsonLimit: "16kb", encoding: "utf-8" }));
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
    const { name } = parseBody(ctx.request.body);
    const requested = ctx.get("x-ringside-code");
    const code = requested ? parseLobbyCode(requested) : null;
    if (requested && !code) throw new ApiError(400, "bad_code", "x-ringside-code is not a lobby code");
    const { lobby, playerId } = await registry.create(code, name);
    ctx.status = 201;
    ctx.body = { code: lobby.code, playerId, token: signToken(tokenSecret, lobby.code, playerId) };
  });

  router.post("/api/lobbies/:code/join", async (ctx) => {
    const code = requireCode(ctx.params.code);
    const { name } = parseBody(ctx.request.body);
    const lobby = await registry.load(code);
    const playerId = await registry.join(lobby, name);
    ctx.body = { playerId, token: signToken(tokenSecret, code, playerId) };
  });

  router.get("/api/lobbies/:code", async (ctx) => {
    const code = requireCode(ctx.params.code);
    const lobby = await registry.load(code);
    const online = new Set((await lobbyPresence(opts.pool, code)).map((p) => p.playerId));
    const view = lobby.committed.view();
    ctx.body = {
      ...view,
      players: view.players.map((p) => ({ ...p, online: online.has(p.id) })),
      node: opts.nodeId,
      epoch: lobby.epoch,
    };
  });

  router.get("/api/lobbies", async (ctx) => {
    if (opts.directoryFeed && ctx.accepts("application/json", "text/event-stream") === "text/event-stream") {
      await opts.directoryFeed(ctx);
      return;
    }
    ctx.body = { lobbies: await listPublicLobbies(opts.pool) };
  });

  router.get("/api/stats", async (ctx) => {
    ctx.body = await clusterStats(opts.pool);
  });
}

function addProbeRoutes(router: Router, opts: HttpApiOptions): void {
  router.get("/healthz", (ctx) => {
    ctx.body = { ok: true, node: opts.nodeId };
  });
  router.get("/readyz", (ctx) => {
    const ready = opts.isReady();
    ctx.status = ready ? 200 : 503;
    ctx.body = { ready, node: opts.nodeId, lobbies: opts.registry.size };
  });
  router.get("/metrics", async (ctx) => {
    ctx.type = opts.metrics.contentType;
    ctx.body = await opts.metrics.metrics();
  });
}

function parseBody(body: unknown): { name: string } {
  const result = nameBody.safeParse(body);
  if (!result.success) {
    throw new ApiError(400, "bad_request", `body must be {"name": "<1-${MAX_NAME_CHARS} characters>"}`);
  }
  return result.data;
}

function requireCode(raw: string | undefined): string {
  const code = parseLobbyCode(raw);
  if (!code) throw new ApiError(400, "bad_code", "not a lobby code");
  return code;
}

function answerError(ctx: Koa.Context, err: unknown, log: Logger): void {
  let error: ApiError;
  if (err instanceof ApiError) error = err;
  else if (isClientHttpError(err))
    error = new ApiError(err.status, err.status === 413 ? "too_large" : "bad_request", err.message);
  else {
    log.error({ err, path: ctx.path }, "request failed");
    error = new ApiError(500, "internal", "internal error");
  }
  ctx.status = error.status;
  if (error.status === 503) ctx.set("Retry-After", "1");
  ctx.body = error.toJSON();
}

/** Errors from the body parser and router (bad JSON, too large, wrong method) carry a 4xx status. */
function isClientHttpError(err: unknown): err is { status: number; message: string } {
  const status = (err as { status?: unknown })?.status;
  return typeof status === "number" && status >= 400 && status < 500;
}
