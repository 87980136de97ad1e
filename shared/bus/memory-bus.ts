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

type Receiver = (topic: string, json: string) => void;

/**
 * Buses of the same schema in one process see each other, like nodes sharing
 * a database: tests can run several "nodes" in one process on this bus.
 */
const receiversBySchema = new Map<string, Set<Receiver>>();

function receiversOf(schema: string): Set<Receiver> {
  let receivers = receiversBySchema.get(schema);
  if (!receivers) {
    receivers = new Set();
    receiversBySchema.set(schema, receivers);
  }
  return receivers;
}

/** The in-process bus, for unit tests and a single-process deployment. It never reconnects. */
export class MemoryBus implements EventBus {
  readonly kind = "memory";
  private readonly handlers: TopicHandlers;
  private readonly resync: ResyncHandlers;
  private readonly receive: Receiver = (topic, json) => this.enqueue(topic, json);
  private closed = false;

  constructor(
    private readonly schema: string,
    logger: Logger,
  ) {
    this.handlers = new TopicHandlers(logger);
    this.resync = new ResyncHandlers(logger);
    receiversOf(schema).add(this.receive);
  }

  async publish(topic: string, message: unknown): Promise<void> {
    await this.publishMany([{ topic, message }]);
  }

  async publishMany(items: { topic: string; message: unknown }[]): Promise<void> {
    assertOpen(this.closed, this.kind);
    // Validate everything first: a batch is sent whole or not at all.
    const prepared = items.map(({ topic, message }) => {
      assertTopic(topic);
      return { topic, json: toJson(message) };
    });
    const receivers = [...receiversOf(this.schema)];
    for (const { topic, json } of prepared) {
      for (const receive of receivers) receive(topic, json);
    }
  }

  async subscribe(topic: string, handler: MessageHandler): Promise<Unsubscribe> {
    assertOpen(this.closed, this.kind);
    assertTopic(topic);
    const { subscription } = this.handlers.add(topic, handler);
    return async () => {
      this.handlers.remove(topic, subscription);
    };
  }

  onResync(handler: () => void): () => void {
    return this.resync.add(handler);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    const receivers = receiversOf(this.schema);
    receivers.delete(this.receive);
    if (receivers.size === 0) receiversBySchema.delete(this.schema);
  }

  /** Asynchronous like the networked buses; microtasks run in FIFO order, which keeps publish order. */
  private enqueue(topic: string, json: string): void {
    queueMicrotask(() => {
      // Each bus parses its own copy, as it would arriving over a network.
      if (!this.closed) this.handlers.deliver(topic, JSON.parse(json));
    });
  }
}
