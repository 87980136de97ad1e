/**
 * Drill progress on stderr (stdout stays for the report): one line per
 * phase, and a live counter that rewrites itself on a terminal and prints a
 * line a second otherwise (CI logs, pipes).
 */

export class Progress {
  private timer: ReturnType<typeof setInterval> | undefined;
  private live = false;
  private readonly tty: boolean;
  private readonly started = Date.now();

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {
    this.tty = out.isTTY === true;
  }

  /** A phase line ends the live counter of the phase before. */
  phase(text: string): void {
    this.stopLive();
    this.out.write(`[${this.elapsed()}] ${text}\n`);
  }

  /** Shows `render()` every interval until stopLive() (or the next phase line). */
  startLive(render: () => string, intervalMs = this.tty ? 200 : 1000): void {
    this.stopLive();
    this.timer = setInterval(() => {
      const text = `[${this.elapsed()}]   ${render()}`;
      if (this.tty) {
        this.out.write(`\r\x1b[2K${text}`);
        this.live = true;
      } else this.out.write(`${text}\n`);
    }, intervalMs);
    this.timer.unref();
  }

  stopLive(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.clearLive();
  }

  private clearLive(): void {
    if (!this.live) return;
    this.out.write("\n");
    this.live = false;
  }

  private elapsed(): string {
    return `${((Date.now() - this.started) / 1000).toFixed(1).padStart(5)} s`;
  }
}
