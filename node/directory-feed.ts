import type { EventBus } from "../shared/bus/event-bus.js";
import { type DirectoryMessage, Topic } from "../shared/bus/topics.js";
import type { Logger } from "../shared/log.js";

/** Changes to one lobby are published at most this often (a busy lobby would flood the bus). */
const THROTTLE_MS = 250;

export type DirectoryOptions = {
  bus: EventBus;
  log: Logger;
  /** The lobby's current public summary, if this node serves it (online from its open sockets). */
  summary: (code: string) => DirectoryMessage | undefined;
};

/**
 * The node's half of the live public lobby directory: it publishes a lobby's
 * summary on the bus when it changes (created, joined, status, who is
 * online), throttled per lobby and only when the summary differs from the
 * last one published. Balancers serve the stream to clients from the bus
 * (balancer/directory-stream.ts).
 */
export class DirectoryFeed {
  private readonly dirty = new Set<string>();
  /** What was last published per lobby served here: a lobby is published again only when it changed. */
  private readonly published = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: DirectoryOptions) {}

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

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
