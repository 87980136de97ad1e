import type { IncomingMessage, ServerResponse } from "node:http";
import type { EventBus } from "../shared/bus/index.js";
import { Topic } from "../shared/bus/topics.js";
import { listPublicLobbies } from "../shared/db/lobbies.js";
import type { Queryable } from "../shared/db/pool.js";
import type { Logger } from "../shared/log.js";
import type { BalancerMetrics } from "./metrics.js";
import type { ConnectionCaps } from "./rate-limits.js";
import { sendError } from "./replies.js";

/**
 * The live lobby directory (`GET /api/lobbies` with `Accept:
 * text/event-stream`), served by the balancer itself to every client from
 * one bus subscription (`directory` topic) and one snapshot read, instead of
 * one pooled connection to a node per client. Same events as a node's feed:
 * `snapshot` with `{"lobbies":[...]}` first, then `lobby` with one lobby's
 * summary whenever it changes.
 *
 * A snapshot read is shared by every client that connects while it runs and
 * for CACHE_MS after it; the lobby events that arrived since the read started
 * are replayed after it, so a cached snapshot misses nothing. After the bus
 * resynced (it may have lost messages), every client gets a fresh snapshot.
 */

export type DirectoryStreamOptions = {
  db: Queryable;
  bus: EventBus;
  logger: Logger;
  metrics: BalancerMetrics;
  caps: ConnectionCaps;
  /** A client with more than this unsent is too slow: dropped (EventSource reconnects and gets a snapshot). */
  maxBufferedBytes?: number;
  keepAliveMs?: number;
  cacheMs?: number;
};

const MAX_BUFFERED_BYTES = 256 * 1024;
const KEEP_ALIVE_MS = 15_000;
const CACHE_MS = 1000;
/** Events kept for replay after a cached snapshot; past this, the next client reads a new one. */
const MAX_REPLAY = 2000;

type Client = { res: ServerResponse; key: string; live: boolean };

/** One snapshot read and what happened since it started. */
type Snapshot = {
  startedAt: number;
  frame: string | null;
  /** `lobby` frames since the read started: sent after the snapshot frame. */
  since: string[];
  waiting: Set<Client>;
  failed: boolean;
};

export class DirectoryStream {
  private readonly clients = new Set<Client>();
  private current: Snapshot | null = null;
  private keepAlive: NodeJS.Timeout | null = null;
  private readonly unsubscribes: (() => unknown)[] = [];
  private readonly maxBuffered: number;
  private readonly cacheMs: number;

  constructor(private readonly opts: DirectoryStreamOptions) {
    this.maxBuffered = opts.maxBufferedBytes ?? MAX_BUFFERED_BYTES;
    this.cacheMs = opts.cacheMs ?? CACHE_MS;
  }

  async start(): Promise<void> {
    this.unsubscribes.push(
      await this.opts.bus.subscribe(Topic.Directory, (message) => this.onLobby(message)),
      this.opts.bus.onResync(() => this.resync()),
    );
    this.keepAlive = setInterval(() => this.broadcast(": keep-alive\n\n"), this.opts.keepAliveMs ?? KEEP_ALIVE_MS);
    this.keepAlive.unref();
  }

  get open(): number {
    return this.clients.size;
  }

  serve(req: IncomingMessage, res: ServerResponse, key: string): void {
    const held = this.opts.caps.acquire(key);
    if (held !== "ok") {
      this.opts.metrics.refusals.inc({ reason: held === "per_key" ? "sse_per_ip" : "sse_total" });
      const [status, error, message] =
        held === "per_key"
          ? [429, "too_many_streams", `at most ${this.opts.caps.options.perKey} directory streams per client`]
          : [503, "streams_full", "this balancer serves as many directory streams as it can; retry later"];
      sendError(res, status, error, message, { "retry-after": "5" });
      return;
    }
    const client: Client = { res, key, live: false };
    this.clients.add(client);
    res.once("close", () => this.remove(client));
    req.socket.setNoDelay(true);
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
    });
    res.flushHeaders();
    this.join(client, this.snapshot());
  }

  close(): void {
    if (this.keepAlive) clearInterval(this.keepAlive);
    for (const u of this.unsubscribes) void u();
    for (const client of [...this.clients]) client.res.destroy();
    this.clients.clear();
  }

  /** The snapshot to send: the current one while it is fresh (or being read), else a new read. */
  private snapshot(): Snapshot {
    const current = this.current;
    const fresh =
      current && !current.failed && (current.frame === null || Date.now() - current.startedAt < this.cacheMs);
    return fresh ? current : this.read();
  }

  private read(): Snapshot {
    const snapshot: Snapshot = { startedAt: Date.now(), frame: null, since: [], waiting: new Set(), failed: false };
    this.current = snapshot;
    this.opts.metrics.directoryReads.inc();
    listPublicLobbies(this.opts.db).then(
      (lobbies) => {
        snapshot.frame = `event: snapshot\ndata: ${JSON.stringify({ lobbies })}\n\n`;
        for (const client of snapshot.waiting) this.deliver(client, snapshot);
        snapshot.waiting.clear();
      },
      (err: unknown) => {
        this.opts.logger.warn({ err }, "directory snapshot read failed");
        snapshot.failed = true;
        // Without a snapshot a client would show a wrong list: cut it, EventSource reconnects.
        for (const client of snapshot.waiting) client.res.destroy();
        snapshot.waiting.clear();
        if (this.current === snapshot) this.current = null;
      },
    );
    return snapshot;
  }

  private join(client: Client, snapshot: Snapshot): void {
    client.live = false;
    if (snapshot.frame === null) snapshot.waiting.add(client);
    else this.deliver(client, snapshot);
  }

  /** The snapshot, then what changed since it was read; from then on the client gets events live. */
  private deliver(client: Client, snapshot: Snapshot): void {
    if (!this.clients.has(client)) return;
    if (!this.write(client, snapshot.frame as string)) return;
    for (const frame of snapshot.since) if (!this.write(client, frame)) return;
    client.live = true;
  }

  private onLobby(message: unknown): void {
    const frame = `event: lobby\ndata: ${JSON.stringify(message)}\n\n`;
    const current = this.current;
    if (current) {
      current.since.push(frame);
      // A snapshot no client will be given any more need not record what follows it.
      const stale =
        current.frame !== null && (Date.now() - current.startedAt >= this.cacheMs || current.since.length > MAX_REPLAY);
      if (stale) this.current = null;
    }
    this.broadcast(frame);
  }

  private resync(): void {
    this.current?.waiting.clear();
    const snapshot = this.read();
    for (const client of this.clients) this.join(client, snapshot);
  }

  private broadcast(frame: string): void {
    for (const client of this.clients) if (client.live) this.write(client, frame);
  }

  /** False when the client was dropped for reading too slowly. */
  private write(client: Client, frame: string): boolean {
    const { res } = client;
    if (res.destroyed) return false;
    if (res.writableLength > this.maxBuffered) {
      this.opts.metrics.refusals.inc({ reason: "sse_slow_reader" });
      res.destroy();
      this.remove(client);
      return false;
    }
    res.write(frame);
    return true;
  }

  private remove(client: Client): void {
    if (!this.clients.delete(client)) return;
    this.current?.waiting.delete(client);
    this.opts.caps.release(client.key);
  }
}

/**
 * Whether a client asks for the live feed rather than JSON, the way the
 * node's Koa `ctx.accepts("application/json", "text/event-stream")` decides:
 * the better quality wins, then the more specific range, then the order in
 * the header; on a tie JSON.
 */
export function wantsEventStream(accept: string | undefined): boolean {
  if (!accept) return false;
  const ranges = accept.split(",").map((part, order) => {
    const [range = "", ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    const q = Number(params.find((p) => p.startsWith("q="))?.slice(2) ?? 1);
    return { range, q: Number.isFinite(q) ? q : 0, order };
  });
  const score = (type: string) => {
    const [major] = type.split("/");
    let best: { q: number; s: number; o: number } | null = null;
    for (const r of ranges) {
      const s = r.range === type ? 2 : r.range === `${major}/*` ? 1 : r.range === "*/*" ? 0 : -1;
      if (s < 0) continue;
      if (!best || s > best.s || (s === best.s && r.order < best.o)) best = { q: r.q, s, o: r.order };
    }
    return best && best.q > 0 ? best : null;
  };
  const sse = score("text/event-stream");
  if (!sse) return false;
  const json = score("application/json");
  if (!json) return true;
  return sse.q > json.q || (sse.q === json.q && (sse.s > json.s || (sse.s === json.s && sse.o < json.o)));
}
