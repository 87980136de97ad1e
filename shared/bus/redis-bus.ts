import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
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

export type RedisBusOptions = { url: string; schema: string; logger: Logger };

/**
 * The cluster bus over Redis pub/sub; channels are "<schema>:<topic>". One
 * connection publishes (commands on one connection keep their order, so
 * messages do too), one stays in subscriber mode. ioredis reconnects both by
 * itself; this class re-subscribes and then calls the resync handlers.
 */
export class RedisBus implements EventBus {
  readonly kind = "redis";
  /** CLIENT SETNAME of the subscriber connection: tests and operators find it in CLIENT LIST by it. */
  readonly subscriberName: string;
  private readonly prefix: string;
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly logger: Logger;
  private readonly handlers: TopicHandlers;
  private readonly resync: ResyncHandlers;
  /** Rejects of the calls in flight: close() settles them (see untilClosed). */
  private readonly inFlight = new Set<(err: Error) => void>();
  private wasReady = false;
  private closed = false;

  constructor(options: RedisBusOptions) {
    this.logger = options.logger;
    this.handlers = new TopicHandlers(options.logger);
    this.resync = new ResyncHandlers(options.logger);
    this.prefix = `${options.schema}:`;
    const name = `ringside-bus-${randomBytes(6).toString("hex")}`;
    this.subscriberName = `${name}-sub`;
    this.publisher = new Redis(options.url, { connectionName: `${name}-pub` });
    this.subscriber = new Redis(options.url, {
      connectionName: this.subscriberName,
      // Re-subscribing is done here, so that resync handlers run only once it is done.
      autoResubscribe: false,
      // A subscribe made during an outage waits for the reconnect rather than failing after 20 tries.
      maxRetriesPerRequest: null,
    });
    // Without 'error' listeners a Redis outage would crash the process.
    this.publisher.on("error", (err) => this.logger.warn({ err }, "event bus publisher connection error"));
    this.subscriber.on("error", (err) => this.logger.warn({ err }, "event bus subscriber connection error"));
    this.subscriber.on("message", (channel: string, payload: string) => this.receive(channel, payload));
    this.subscriber.on("ready", () => this.subscriberReady());
  }

  async publish(topic: string, message: unknown): Promise<void> {
    assertOpen(this.closed, this.kind);
    const channel = this.channelOf(topic);
    await this.untilClosed(this.publisher.publish(channel, toJson(message)));
  }

  async publishMany(items: { topic: string; message: unknown }[]): Promise<void> {
    assertOpen(this.closed, this.kind);
    const outgoing = items.map(({ topic, message }) => ({ channel: this.channelOf(topic), json: toJson(message) }));
    if (outgoing.length === 0) return;
    const pipeline = this.publisher.pipeline();
    for (const { channel, json } of outgoing) pipeline.publish(channel, json);
    const results = (await this.untilClosed(pipeline.exec())) ?? [];
    const failed = results.find(([err]) => err);
    if (failed?.[0]) throw failed[0];
  }

  async subscribe(topic: string, handler: MessageHandler): Promise<Unsubscribe> {
    assertOpen(this.closed, this.kind);
    const channel = this.channelOf(topic);
    const { subscription, first } = this.handlers.add(topic, handler);
    let unsubscribed = false;
    const unsubscribe = async () => {
      if (unsubscribed) return;
      unsubscribed = true;
      const last = this.handlers.remove(topic, subscription);
      if (last && !this.closed) await this.subscriber.unsubscribe(channel).catch(() => {});
    };
    // A later subscriber to the same topic waits too: SUBSCRIBE is idempotent and its reply says it is live.
    try {
      await this.untilClosed(this.subscriber.subscribe(channel));
    } catch (err) {
      await unsubscribe();
      throw err;
    }
    if (first) this.logger.debug({ channel }, "event bus subscribed");
    return unsubscribe;
  }

  onResync(handler: () => void): () => void {
    return this.resync.add(handler);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    await Promise.all([quit(this.publisher), quit(this.subscriber)]);
    for (const reject of this.inFlight) reject(new Error("the redis event bus is closed"));
  }

  /**
   * ioredis never settles a command queued during a reconnect once it is
   * disconnected; without this, a publish during an outage would hang forever
   * after close().
   */
  private untilClosed<T>(command: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.inFlight.add(reject);
      command.then(resolve, reject).finally(() => this.inFlight.delete(reject));
    });
  }

  private channelOf(topic: string): string {
    assertTopic(topic);
    return this.prefix + topic;
  }

  private receive(channel: string, payload: string): void {
    if (this.closed || !channel.startsWith(this.prefix)) return;
    let message: unknown;
    try {
      message = JSON.parse(payload);
    } catch (err) {
      this.logger.warn({ err, channel }, "event bus dropped a message it could not read");
      return;
    }
    this.handlers.deliver(channel.slice(this.prefix.length), message);
  }

  /** Every 'ready' after the first is a reconnect: messages sent while it was down are lost. */
  private subscriberReady(): void {
    if (!this.wasReady) {
      this.wasReady = true;
      return;
    }
    const channels = this.handlers.topics().map((topic) => this.prefix + topic);
    const resubscribed = channels.length > 0 ? this.subscriber.subscribe(...channels) : Promise.resolve();
    resubscribed.then(
      () => {
        this.logger.warn({ channels: channels.length }, "event bus subscriber reconnected; resyncing");
        if (!this.closed) this.resync.fire();
      },
      // The connection dropped again; the next 'ready' tries again.
      (err: unknown) => this.logger.warn({ err }, "event bus could not re-subscribe after a reconnect"),
    );
  }
}

/** QUIT when connected (replies are flushed); otherwise just drop the connection and its reconnect loop. */
async function quit(redis: Redis): Promise<void> {
  if (redis.status === "ready") {
    await redis.quit().catch(() => redis.disconnect());
  } else {
    redis.disconnect();
  }
}
