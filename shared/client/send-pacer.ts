/**
 * Paces the frames a connection sends by the node's per-connection rate
 * limit (from the welcome): a backlog re-sent after a reconnect goes out at
 * the rate the node takes, in order, instead of all at once into refusals.
 */
export class SendPacer {
  private tokens: number;
  private last: number;
  private readonly queue: (() => void)[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private perSecond: number,
    private burst: number,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** New limits from a welcome; the bucket starts full (the node's is new too). */
  reset(perSecond: number, burst: number): void {
    this.perSecond = perSecond;
    this.burst = burst;
    this.tokens = burst;
    this.last = this.now();
  }

  /** Runs `send` now if the bucket allows, else when it has refilled (in order). */
  schedule(send: () => void): void {
    this.queue.push(send);
    this.drain();
  }

  /** Forgets what waits (the socket closed: the welcome re-sends what is unacked). */
  clear(): void {
    this.queue.length = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  get waiting(): number {
    return this.queue.length;
  }

  private drain(): void {
    if (this.timer !== undefined) return;
    this.refill();
    while (this.queue.length > 0 && this.tokens >= 1) {
      this.tokens -= 1;
      this.queue.shift()?.();
    }
    if (this.queue.length === 0) return;
    // A little over one token's worth, so the node's bucket (refilling at the same rate) has it too.
    const waitMs = Math.ceil(((1 - this.tokens) / this.perSecond) * 1000) + 5;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, waitMs);
    (this.timer as { unref?: () => void }).unref?.();
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
  }
}
