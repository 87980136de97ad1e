/**
 * Exponential backoff with full jitter: each delay is uniform in
 * [0, min(maxMs, initialMs * 2^attempt)], so many clients dropped by the same
 * node failure do not reconnect in lockstep.
 */

export type BackoffOptions = {
  /** Ceiling of the first delay (default 100 ms). */
  initialMs?: number;
  /** Largest ceiling (default 2000 ms). */
  maxMs?: number;
  /** Source of randomness in [0, 1); tests pass a fixed one. */
  random?: () => number;
};

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 100;
    this.maxMs = Math.max(options.maxMs ?? 2000, this.initialMs);
    this.random = options.random ?? Math.random;
  }

  /** The upper bound of the next delay. */
  ceiling(): number {
    return Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
  }

  /** The next delay; each call doubles the ceiling until it reaches maxMs. */
  next(): number {
    const delay = Math.round(this.random() * this.ceiling());
    if (this.ceiling() < this.maxMs) this.attempt++;
    return delay;
  }

  /** A short delay (at most initialMs) that does not advance the backoff. */
  quick(): number {
    return Math.round(this.random() * this.initialMs);
  }

  reset(): void {
    this.attempt = 0;
  }
}
