/**
 * Token buckets per key (a client address, a player): `burst` tokens each,
 * refilled at `perSecond`. Used by the balancer for what a client does
 * (create, join, fail an admin login) and by nodes for what a player asks of
 * Postgres (log replays).
 */

export type RateOptions = { perSecond: number; burst: number };

/** `burst` tokens, refilled at `perSecond`; a refusal says when the next token comes. */
class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly options: RateOptions,
    now: number,
  ) {
    this.tokens = options.burst;
    this.updatedAt = now;
  }

  /** Milliseconds until a token is there (0: one is there now). */
  waitMs(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.options.perSecond) * 1000);
  }

  take(now: number): number {
    const wait = this.waitMs(now);
    if (wait === 0) this.tokens -= 1;
    return wait;
  }

  full(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.options.burst;
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.updatedAt) / 1000;
    this.tokens = Math.min(this.options.burst, this.tokens + elapsed * this.options.perSecond);
    this.updatedAt = now;
  }
}

/** A refusal: how long to wait before the next try, in whole seconds (for Retry-After). */
export type Limited = { retryAfterS: number };

/**
 * One bucket per key. Memory stays bounded: past `maxKeys`, buckets that
 * have refilled (as good as new) are dropped, and failing that the oldest.
 */
export class KeyedLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    readonly options: RateOptions,
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Spends a token of `key`; null when allowed, else when to retry. */
  take(key: string): Limited | null {
    return limited(this.bucket(key).take(this.now()));
  }

  /** Whether `key` has a token, without spending it. */
  check(key: string): Limited | null {
    const bucket = this.buckets.get(key);
    return bucket ? limited(bucket.waitMs(this.now())) : null;
  }

  get size(): number {
    return this.buckets.size;
  }

  private bucket(key: string): TokenBucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.evict();
      bucket = new TokenBucket(this.options, this.now());
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  private evict(): void {
    const now = this.now();
    for (const [key, bucket] of this.buckets) if (bucket.full(now)) this.buckets.delete(key);
    if (this.buckets.size < this.maxKeys) return;
    const oldest = this.buckets.keys().next();
    if (!oldest.done) this.buckets.delete(oldest.value);
  }
}

function limited(waitMs: number): Limited | null {
  return waitMs === 0 ? null : { retryAfterS: Math.max(1, Math.ceil(waitMs / 1000)) };
}
