import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger };

/** Who wrote a line: set once the process knows its id (a node's may come from its port, known after listen). */
type Identity = { key?: string; id?: string };
const IDENTITY = Symbol("ringside.log.identity");

/** One JSON line per event on stdout (or `destination`); `component` says which process wrote it. */
export function createLogger(
  component: string,
  level = process.env.LOG_LEVEL ?? "info",
  destination?: DestinationStream,
): Logger {
  const who: Identity = {};
  const options = {
    level,
    base: { component },
    timestamp: pino.stdTimeFunctions.isoTime,
    // A mixin rather than a binding: children made before the id was known (the bus's) carry it too.
    mixin: () => (who.key ? { [who.key]: who.id } : {}),
  };
  const logger = destination ? pino(options, destination) : pino(options);
  Object.defineProperty(logger, IDENTITY, { value: who });
  return logger;
}

/**
 * Names the process (`nodeId` or `balancerId`) on every line of this logger
 * and of all its children, past and future. A logger not made here (a
 * studio's own) gets a binding instead, on that logger and later children.
 */
export function identifyLogger(log: Logger, key: "nodeId" | "balancerId", id: string): void {
  // Children inherit from their parent's object, so the root's identity is found through them.
  const who = (log as unknown as Record<symbol, Identity | undefined>)[IDENTITY];
  if (!who) {
    log.setBindings({ [key]: id });
    return;
  }
  who.key = key;
  who.id = id;
}
