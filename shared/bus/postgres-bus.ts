import { randomBytes } from "node:crypto";
import type pg from "pg";
import {
  deleteOldBusPayloads,
  fetchBusPayload,
  listen,
  notifyMany,
  storeBusPayload,
  unlisten,
} from "../db/bus-payloads.js";
import { connectionOptions, createPool, type Pool, withTransaction } from "../db/pool.js";
import type { Logger } from "../log.js";
import {
  assertOpen,
  assertTopic,
  type EventBus,
  type MessageHandler,
  ResyncHandlers,
  TopicHandlers,
  toJson,
  type Unsubscribe,
} from "./event-bus.js";
import { ListenerConnection } from "./postgres-listener.js";

/** NOTIFY payloads must stay under 8000 bytes; the envelope and a margin take the rest. */
const INLINE_LIMIT_BYTES = 7_900;
/** Channel names are identifiers: NAMEDATALEN - 1 bytes. */
const MAX_CHANNEL_BYTES = 63;
/** Long enough for any live receiver to fetch a large payload, short enough to keep the table tiny. */
const PAYLOAD_MAX_AGE_MS = 60_000;
const CLEANUP_EVERY_MS = 30_000;
/** Publish calls merged into one statement at most (see flush). */
const MAX_BATCH_CALLS = 500;

export type PostgresBusOptions = {
  url: string;
  schema: string;
  /** For publishing and large payloads; its search_path must be `schema`. Created (and closed) here when absent. */
  pool?: Pool;
  logger: Logger;
};

type Outgoing = { channel: string; json: string };
type PendingPublish = { items: Outgoing[]; resolve: () => void; reject: (err: unknown) => void };
type Decoded = { ok: true; message: unknown } | { ok: false; err: unknown };

/*
 * Wire format of a notification: {"s":<seq>,"m":<message>} or, for a message
 * stored in bus_payloads, {"s":<seq>,"$ref":"<row id>"}. The per-instance
 * sequence keeps notifications unique: Postgres folds identical ones sent in
 * one transaction into one, which would lose repeats in publishMany.
 */
const inlinePayload = (seq: number, json: string) => `{"s":${seq},"m":${json}}`;
const refPayload = (seq: number, id: string) => `{"s":${seq},"$ref":"${id}"}`;

/** The cluster bus over LISTEN/NOTIFY; channels are "<schema>.<topic>" so schemas sharing a database stay apart. */
export class PostgresBus implements EventBus {
  readonly kind = "postgres";
  /** Unique per instance: the listening backend can be found in pg_stat_activity by it. */
  readonly applicationName = `ringside-bus-${randomBytes(6).toString("hex")}`;
  private readonly prefix: string;
  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly listenerConfig: pg.ClientConfig;
  private readonly logger: Logger;
  private readonly handlers: TopicHandlers;
  private readonly resync: ResyncHandlers;
  /** Per subscribed topic: settles once its LISTEN is done. */
  private readonly listens = new Map<string, Promise<void>>();
  private listener: ListenerConnection | null = null;
  private closed = false;
  private seq = 0;
  private queue: PendingPublish[] = [];
  private flushing: Promise<void> | null = null;
  /** Messages are handed to handlers through this chain, in notification order, even when one must be fetched. */
  private delivery: Promise<void> = Promise.resolve();
  private cleanupTimer: NodeJS.Timeout | null = null;

  constructor(options: PostgresBusOptions) {
    this.logger = options.logger;
    this.handlers = new TopicHandlers(options.logger);
    this.resync = new ResyncHandlers(options.logger);
    this.prefix = `${options.schema}.`;
    // Fails at startup, not at the first publish, when even a one-letter topic would not fit.
    this.channelOf("x");
    this.ownsPool = options.pool === undefined;
    this.pool = options.pool ?? createPool(options.url, options.schema, 3);
    this.listenerConfig = {
      ...connectionOptions(options.url, options.schema),
      application_name: this.applicationName,
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
    };
  }

  /** The backend pid of the listening connection while it is up (for tests and operators). */
  listenerPid(): number | null {
    return this.listener?.pid ?? null;
  }

  async publish(topic: string, message: unknown): Promise<void> {
    await this.publishMany([{ topic, message }]);
  }

  async publishMany(items: { topic: string; message: unknown }[]): Promise<void> {
    assertOpen(this.closed, this.kind);
    const outgoing = items.map(({ topic, message }) => ({ channel: this.channelOf(topic), json: toJson(message) }));
    if (outgoing.length === 0) return;
    await new Promise<void>((resolve, reject) => {
      this.queue.push({ items: outgoing, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  async subscribe(topic: string, handler: MessageHandler): Promise<Unsubscribe> {
    assertOpen(this.closed, this.kind);
    const channel = this.channelOf(topic);
    const { subscription, first } = this.handlers.add(topic, handler);
    if (first) this.listens.set(topic, this.listenOn(channel));
    let unsubscribed = false;
    const unsubscribe = async () => {
      if (unsubscribed) return;
      unsubscribed = true;
      if (!this.handlers.remove(topic, subscription)) return;
      this.listens.delete(topic);
      const client = this.listener?.current();
      // Not connected: nothing to undo, the reconnect only LISTENs topics that still have handlers.
      if (client && !this.closed) await unlisten(client, channel).catch(() => {});
    };
    try {
      await this.listens.get(topic);
    } catch (err) {
      await unsubscribe();
      throw err;
    }
    return unsubscribe;
  }

  onResync(handler: () => void): () => void {
    return this.resync.add(handler);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    this.handlers.clear();
    await this.flushing;
    await this.listener?.close();
    if (this.ownsPool) await this.pool.end();
  }

  private channelOf(topic: string): string {
    assertTopic(topic);
    const channel = this.prefix + topic;
    const bytes = Buffer.byteLength(channel);
    if (bytes > MAX_CHANNEL_BYTES) {
      throw new Error(
        `event bus channel "${channel}" is ${bytes} bytes; Postgres allows ${MAX_CHANNEL_BYTES}: shorten the schema or the topic`,
      );
    }
    return channel;
  }

  /** The listening connection opens with the first subscription: a publish-only bus needs none. */
  private connection(): ListenerConnection {
    this.listener ??= new ListenerConnection(
      this.listenerConfig,
      {
        channels: () => this.handlers.topics().map((topic) => this.prefix + topic),
        notification: (n) => this.receive(n),
        reconnected: () => this.resync.fire(),
      },
      this.logger,
    );
    return this.listener;
  }

  private async listenOn(channel: string): Promise<void> {
    const connection = this.connection();
    for (;;) {
      const client = await connection.live();
      try {
        await listen(client, channel);
        return;
      } catch (err) {
        // The connection dropped; the reconnect LISTENs every subscribed topic, this one included.
        connection.broken(client, err);
      }
    }
  }

  /**
   * One statement in flight at a time: calls keep their order (commit order is
   * delivery order), and the calls made meanwhile go out together in the next
   * statement, so throughput grows with load instead of round trips.
   */
  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH_CALLS);
      try {
        await this.send(batch.flatMap((pending) => pending.items));
        for (const pending of batch) pending.resolve();
      } catch (err) {
        for (const pending of batch) pending.reject(err);
      }
    }
    this.flushing = null;
  }

  private async send(items: Outgoing[]): Promise<void> {
    const channels = items.map((item) => item.channel);
    const payloads = items.map((item) => inlinePayload(++this.seq, item.json));
    const large = payloads.flatMap((payload, i) => (Buffer.byteLength(payload) > INLINE_LIMIT_BYTES ? [i] : []));
    if (large.length === 0) return notifyMany(this.pool, channels, payloads);
    this.startCleanup();
    // The rows commit together with the notifications, so a receiver always finds them.
    await withTransaction(this.pool, async (client) => {
      for (const i of large) {
        const item = items[i] as Outgoing;
        payloads[i] = refPayload(++this.seq, await storeBusPayload(client, item.channel, item.json));
      }
      await notifyMany(client, channels, payloads);
    });
  }

  private receive(notification: pg.Notification): void {
    const { channel, payload } = notification;
    if (!channel.startsWith(this.prefix) || payload === undefined) return;
    const topic = channel.slice(this.prefix.length);
    const decoded = this.decode(payload);
    this.delivery = this.delivery
      .then(() => decoded)
      .then((result) => {
        if (this.closed) return;
        if (result.ok) this.handlers.deliver(topic, result.message);
        else this.logger.warn({ err: result.err, topic }, "event bus dropped a message it could not read");
      })
      .catch((err: unknown) => this.logger.error({ err }, "event bus delivery failed"));
  }

  /** Never rejects: a rejection waiting in the delivery chain would count as unhandled. */
  private async decode(payload: string): Promise<Decoded> {
    try {
      const envelope = JSON.parse(payload) as { m?: unknown; $ref?: string };
      if (envelope.$ref === undefined) return { ok: true, message: envelope.m };
      const stored = await fetchBusPayload(this.pool, envelope.$ref);
      if (stored === null) throw new Error(`bus payload ${envelope.$ref} is gone (kept ${PAYLOAD_MAX_AGE_MS} ms)`);
      return { ok: true, message: JSON.parse(stored) };
    } catch (err) {
      return { ok: false, err };
    }
  }

  /** Whoever writes payload rows deletes the old ones (any writer's, not only its own). */
  private startCleanup(): void {
    if (this.cleanupTimer) return;
    this.cleanupTimer = setInterval(() => {
      deleteOldBusPayloads(this.pool, PAYLOAD_MAX_AGE_MS).catch((err: unknown) =>
        this.logger.warn({ err }, "event bus payload cleanup failed"),
      );
    }, CLEANUP_EVERY_MS);
    this.cleanupTimer.unref();
  }
}
