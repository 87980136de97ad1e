import pg from "pg";
import { backendPid, listenAll, ping } from "../db/bus-payloads.js";
import type { Logger } from "../log.js";
import { Pause } from "../pause.js";

const CHECK_EVERY_MS = 2_000;
const CHECK_TIMEOUT_MS = 1_500;
const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 2_000;
const END_TIMEOUT_MS = 1_000;

export type ListenerEvents = {
  /** The channels to LISTEN on a new connection. */
  channels: () => string[];
  notification: (notification: pg.Notification) => void;
  /** A connection replaced a lost one and LISTENs again: what was sent in between is lost. */
  reconnected: () => void;
};

/**
 * The Postgres bus's dedicated listening connection, never a pooled one (a
 * pool would hand it back and LISTENs would go with it). It checks itself
 * with SELECT 1 every few seconds, since a silent TCP drop would otherwise
 * look like a quiet bus; when it is lost it is replaced with backoff, the
 * channels are LISTENed again and `reconnected` is called.
 */
export class ListenerConnection {
  /** The backend pid while connected. */
  pid: number | null = null;
  private client: pg.Client | null = null;
  private waiters: { resolve: (client: pg.Client) => void; reject: (err: Error) => void }[] = [];
  /** Ends the watch of the live client (it was lost, or the bus is closing). */
  private lost: ((reason: unknown) => void) | null = null;
  private readonly pause = new Pause();
  private closed = false;
  private readonly running: Promise<void>;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly events: ListenerEvents,
    private readonly logger: Logger,
  ) {
    this.running = this.run();
  }

  current(): pg.Client | null {
    return this.client;
  }

  /** The live client; waits through a reconnect. */
  live(): Promise<pg.Client> {
    if (this.closed) return Promise.reject(new Error("the postgres event bus is closed"));
    if (this.client) return Promise.resolve(this.client);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** A statement failed on client: replace the connection. */
  broken(client: pg.Client, reason: unknown): void {
    if (client === this.client) this.lost?.(reason);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pause.interrupt();
    this.lost?.("closing");
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error("the postgres event bus is closed"));
    await this.running;
  }

  private async run(): Promise<void> {
    let delay = BACKOFF_FIRST_MS;
    let wasLive = false;
    while (!this.closed) {
      const opened = await this.open();
      if (!opened) {
        await this.pause.sleep(delay);
        delay = Math.min(delay * 2, BACKOFF_MAX_MS);
        continue;
      }
      const { client, pid } = opened;
      if (this.closed) {
        await this.discard(client);
        break;
      }
      delay = BACKOFF_FIRST_MS;
      const lost = this.watch(client);
      this.goLive(client, pid);
      if (wasLive) this.events.reconnected();
      wasLive = true;
      const reason = await lost;
      this.client = null;
      this.pid = null;
      await this.discard(client);
      if (this.closed) break;
      this.logger.warn({ err: reason }, "event bus lost its listening connection; reconnecting");
      await this.pause.sleep(delay);
    }
  }

  private async open(): Promise<{ client: pg.Client; pid: number } | null> {
    const client = new pg.Client(this.config);
    // Without an 'error' listener a dropped connection would crash the process.
    client.on("error", (err) => this.broken(client, err));
    client.on("end", () => this.broken(client, new Error("listening connection ended")));
    client.on("notification", this.events.notification);
    try {
      await client.connect();
      const pid = await backendPid(client);
      await listenAll(client, this.events.channels());
      return { client, pid };
    } catch (err) {
      this.logger.warn({ err }, "event bus could not open its listening connection; retrying");
      await this.discard(client);
      return null;
    }
  }

  private goLive(client: pg.Client, pid: number): void {
    this.client = client;
    this.pid = pid;
    for (const waiter of this.waiters.splice(0)) waiter.resolve(client);
  }

  /** Resolves with the reason once client is lost: an error, its end, or a failed liveness check. */
  private watch(client: pg.Client): Promise<unknown> {
    return new Promise((resolve) => {
      let checking = false;
      const timer = setInterval(() => {
        if (checking) return;
        checking = true;
        withTimeout(ping(client), CHECK_TIMEOUT_MS, "listening connection check").then(
          () => {
            checking = false;
          },
          (err: unknown) => this.broken(client, err),
        );
      }, CHECK_EVERY_MS);
      timer.unref();
      this.lost = (reason) => {
        clearInterval(timer);
        this.lost = null;
        resolve(reason);
      };
    });
  }

  /** Keeps the 'error' listener: a dead connection may still report errors. */
  private async discard(client: pg.Client): Promise<void> {
    client.removeAllListeners("notification");
    client.removeAllListeners("end");
    // end() may never finish on a connection that stopped answering.
    await withTimeout(client.end(), END_TIMEOUT_MS, "closing the listening connection").catch(() => {});
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
