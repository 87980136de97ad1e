import { type Logger, pino } from "pino";

export type { Logger };

/** One JSON line per event on stdout; `component` says which process wrote it. */
export function createLogger(component: string, level = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({ level, base: { component }, timestamp: pino.stdTimeFunctions.isoTime });
}
