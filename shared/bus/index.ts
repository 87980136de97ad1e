import { createLogger, type Logger } from "../log.js";
import type { EventBus } from "./event-bus.js";
import { MemoryBus } from "./memory-bus.js";
import { PostgresBus } from "./postgres-bus.js";
import { RedisBus } from "./redis-bus.js";

export type { EventBus, MessageHandler, Unsubscribe } from "./event-bus.js";
export { MemoryBus } from "./memory-bus.js";
export { PostgresBus } from "./postgres-bus.js";
export { RedisBus } from "./redis-bus.js";

export type EventBusOptions = {
  kind: EventBus["kind"];
  /** Required for kind "postgres". */
  databaseUrl?: string;
  /** Namespaces the channels, so schemas sharing a database or a Redis never hear each other. */
  schema: string;
  /** Required for kind "redis". */
  redisUrl?: string;
  logger?: Logger;
};

/** The bus chosen by configuration (RINGSIDE_BUS). */
export function createEventBus(options: EventBusOptions): EventBus {
  const logger = options.logger ?? createLogger("event-bus");
  switch (options.kind) {
    case "memory":
      return new MemoryBus(options.schema, logger);
    case "postgres":
      if (!options.databaseUrl)
        throw new Error("the postgres event bus needs a database URL (DATABASE_URL is not set)");
      return new PostgresBus({ url: options.databaseUrl, schema: options.schema, logger });
    case "redis":
      if (!options.redisUrl) throw new Error("the redis event bus needs REDIS_URL (RINGSIDE_BUS=redis)");
      return new RedisBus({ url: options.redisUrl, schema: options.schema, logger });
    default:
      throw new Error(`unknown event bus kind ${JSON.stringify(options.kind satisfies never)}`);
  }
}
