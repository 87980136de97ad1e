import type { Logger } from "../log.js";

/**
 * The cluster event bus: fire-and-forget notifications between processes.
 * Delivery is at most once. A subscriber that was disconnected misses what
 * was published meanwhile and is told so through onResync, after which it
 * rebuilds its state from the tables (the source of truth).
 */

export type Unsubscribe = () => Promise<void>;
export type MessageHandler = (message: unknown) => void;

export interface EventBus {
  readonly kind: "memory" | "postgres" | "redis";
  /** message must be JSON-serialisable. */
  publish(topic: string, message: unknown): Promise<void>;
  /** Several events in one transaction / one round trip, delivered in the given order. */
  publishMany(items: { topic: string; message: unknown }[]): Promise<void>;
  /** Resolves once the subscription is live: anything published afterwards reaches handler. */
  subscribe(topic: string, handler: MessageHandler): Promise<Unsubscribe>;
  /** handler runs after the bus reconnected; returns a function that removes it. */
  onResync(handler: () => void): () => void;
  close(): Promise<void>;
}

const TOPIC_PATTERN = /^[a-z0-9_.-]{1,40}$/;

export function assertTopic(topic: string): void {
  if (!TOPIC_PATTERN.test(topic)) {
    throw new Error(
      `invalid bus topic ${JSON.stringify(topic)}: use 1 to 40 characters from a-z, 0-9, "_", "." and "-"`,
    );
  }
}

/** Serialises in the publisher's call, so a message that cannot travel fails there and not on the wire. */
export function toJson(message: unknown): string {
  const json = JSON.stringify(message);
  if (json === undefined) throw new Error("bus message is not JSON-serialisable");
  return json;
}

export function assertOpen(closed: boolean, kind: EventBus["kind"]): void {
  if (closed) throw new Error(`the ${kind} event bus is closed`);
}

/** One entry per subscribe call, so subscribing the same function twice needs two unsubscribes. */
type Subscription = { handler: MessageHandler };

/**
 * The handlers of one bus instance, by topic. A throwing handler (or a
 * rejecting async one) is logged and the others still get the message.
 */
export class TopicHandlers {
  private readonly byTopic = new Map<string, Set<Subscription>>();

  constructor(private readonly logger: Logger) {}

  /** Adds a handler; `first` tells the caller to start listening on the topic. */
  add(topic: string, handler: MessageHandler): { subscription: Subscription; first: boolean } {
    const subscription = { handler };
    const existing = this.byTopic.get(topic);
    if (existing) {
      existing.add(subscription);
      return { subscription, first: false };
    }
    this.byTopic.set(topic, new Set([subscription]));
    return { subscription, first: true };
  }

  /** Removes a handler; returns true when the topic has none left (the caller may stop listening). */
  remove(topic: string, subscription: Subscription): boolean {
    const set = this.byTopic.get(topic);
    if (!set?.delete(subscription) || set.size > 0) return false;
    this.byTopic.delete(topic);
    return true;
  }

  topics(): string[] {
    return [...this.byTopic.keys()];
  }

  clear(): void {
    this.byTopic.clear();
  }

  deliver(topic: string, message: unknown): void {
    const set = this.byTopic.get(topic);
    if (!set) return;
    // A copy: a handler that unsubscribes while running must not disturb the loop.
    for (const { handler } of [...set]) {
      try {
        const result: unknown = handler(message);
        if (result instanceof Promise) result.catch((err: unknown) => this.handlerFailed(topic, err));
      } catch (err) {
        this.handlerFailed(topic, err);
      }
    }
  }

  private handlerFailed(topic: string, err: unknown): void {
    this.logger.error({ err, topic }, "event bus handler failed");
  }
}

/** The onResync handlers of one bus instance. */
export class ResyncHandlers {
  private readonly handlers = new Set<{ run: () => void }>();

  constructor(private readonly logger: Logger) {}

  add(run: () => void): () => void {
    const entry = { run };
    this.handlers.add(entry);
    return () => {
      this.handlers.delete(entry);
    };
  }

  fire(): void {
    for (const { run } of [...this.handlers]) {
      try {
        run();
      } catch (err) {
        this.logger.error({ err }, "event bus resync handler failed");
      }
    }
  }
}
