import { PassThrough } from "node:stream";
import type Koa from "koa";
import type { EventBus } from "../shared/bus/event-bus.js";
import { type DirectoryMessage, Topic } from "../shared/bus/topics.js";
import { listPublicLobbies } from "../shared/db/lobbies.js";
import type { Pool } from "../shared/db/pool.js";
import type { Logger } from "../shared/log.js";

/** Changes to one lobby are published at most this often (a busy lobby would flood the bus). */
const THROTTLE_MS = 250;

export type DirectoryOptions = {
  bus: EventBus;
  pool: Pool;
  log: Logger;
  /** The lobby's current public summary, if this node serves it (online from its open sockets). */
  summary: (code: string) => DirectoryMessage | undefined;
};

/**
 * The live public lobby directory. Nodes publish a lobby's summary on the bus
 * when it changes (created, joined, status, who is online), throttled per
 * lobby; every node streams those to its SSE subscribers, after a first
 * `snapshot` event read from Postgres. A subscriber that reconnects gets a
 * fresh snapshot, so nothing missed while away is lost for good.
 */
export class DirectoryFeed {
  private readonly dirty = new Set<string>();
  /** What was last published per lobby served here: a lobby is published again only when it changed. */
  private readonly published = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private readonly streams = new Set<PassThrough>();

  constructor(private readonly opts: DirectoryOptions) {}

  async start(): Promise<void> {
    await this.opts.bus.subscribe(Topic.Directory, (m) => this.fanOut("lobby", m));
    this.opts.bus.onResync(() => void this.sendSnapshots());
  }

  /** A lobby closed while not loaded anywhere: tell every live directory it is gone. */
  closed(code: string): void {
    const message: DirectoryMessage = {
      code,
      game: "",
      status: "closed",
      statusText: "",
      players: 0,
      host: "",
      online: 0,
    };
    void this.opts.bus.publish(Topic.Directory, message).catch(() => {});
  }

  /** The lobby is no longer served here (its next owner publishes it from now on). */
  forget(code: string): void {
    this.published.delete(code);
    this.dirty.delete(code);
  }

  /** Marks a lobby changed; its summary goes out within THROTTLE_MS, if it differs from the last one. */
  changed(code: string): void {
    this.dirty.add(code);
    if (!this.timer) this.timer = setTimeout(() => void this.flush(), THROTTLE_MS);
  }

  private async flush(): Promise<void> {
    this.timer = null;
    const codes = [...this.dirty];
    this.dirty.clear();
    const items: { topic: string; message: DirectoryMessage }[] = [];
    for (const code of codes) {
      const message = this.opts.summary(code);
      if (!message) continue;
      const text = JSON.stringify(message);
      if (this.published.get(code) === text) continue;
      this.published.set(code, text);
      items.push({ topic: Topic.Directory, message });
    }
    if (items.length)
      await this.opts.bus.publishMany(items).catch((err) => this.opts.log.warn({ err }, "directory publish failed"));
  }

  /** Handles GET /api/lobbies with Accept: text/event-stream. */
  async stream(ctx: Koa.Context): Promise<void> {
    const stream = new PassThrough();
    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    ctx.set({ "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no" });
    ctx.status = 200;
    ctx.body = stream;
    this.streams.add(stream);
    const keepAlive = setInterval(() => stream.write(": keep-alive\n\n"), 15_000);
    const close = () => {
      clearInterval(keepAlive);
      this.streams.delete(stream);
    };
    ctx.req.on("close", close);
    stream.on("error", close);
    await this.sendSnapshot(stream);
  }

  private async sendSnapshot(stream: PassThrough): Promise<void> {
    const lobbies = await listPublicLobbies(this.opts.pool);
    stream.write(`event: snapshot\ndata: ${JSON.stringify({ lobbies })}\n\n`);
  }

  private async sendSnapshots(): Promise<void> {
    for (const stream of this.streams) await this.sendSnapshot(stream).catch(() => {});
  }

  private fanOut(event: string, message: unknown): void {
    const frame = `event: ${event}\ndata: ${JSON.stringify(message)}\n\n`;
    for (const stream of this.streams) stream.write(frame);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const stream of this.streams) stream.end();
    this.streams.clear();
  }
}
