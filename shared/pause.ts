/**
 * A wait between attempts (renewals, reconnects) that a stop can cut short,
 * so stopping never waits out a backoff.
 */
export class Pause {
  private wake: (() => void) | null = null;

  /** Resolves after `ms`, or at once when `interrupt()` is called meanwhile. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake?.(), ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }

  interrupt(): void {
    this.wake?.();
  }
}
