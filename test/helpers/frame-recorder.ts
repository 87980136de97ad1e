import WebSocket from "ws";
import { within } from "./wait.js";

/**
 * A raw WebSocket to a lobby that keeps every text frame it receives, as
 * received, so a test can inspect exactly what one player was sent (hidden
 * information tests read all of them). It sends frames and waits for their
 * answers itself: no SDK in between, no reconnects.
 */

// biome-ignore lint/suspicious/noExplicitAny: frames are whatever the server sent; tests inspect them freely
export type Frame = any;

export class FrameRecorder {
  readonly frames: string[] = [];
  private readonly waiters: {
    match: (frame: Frame) => boolean;
    resolve: (frame: Frame) => void;
    reject: (error: Error) => void;
  }[] = [];
  private nextId = 0;

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data, binary) => {
      if (binary) return;
      const text = data.toString();
      this.frames.push(text);
      const frame = JSON.parse(text) as Frame;
      for (const waiter of [...this.waiters]) {
        if (!waiter.match(frame)) continue;
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(frame);
      }
    });
  }

  /** Connects (through the balancer) and resolves once the welcome arrived. */
  static async open(wsBase: string, code: string, token: string, since?: number): Promise<FrameRecorder> {
    const query = `token=${encodeURIComponent(token)}${since === undefined ? "" : `&since=${since}`}`;
    const ws = new WebSocket(`${wsBase}/ws/${code}?${query}`);
    const recorder = new FrameRecorder(ws);
    const welcome = recorder.next((f) => f.type === "welcome", "a welcome");
    ws.once("close", (closeCode, reason) => recorder.fail(`socket closed (${closeCode} ${reason.toString()})`));
    await welcome;
    return recorder;
  }

  /** The first frame from now on that matches. */
  next(match: (frame: Frame) => boolean, what: string, ms = 20_000): Promise<Frame> {
    return within(new Promise((resolve, reject) => this.waiters.push({ match, resolve, reject })), what, ms);
  }

  /** A frame already received, or the next one, that matches. */
  async seen(match: (frame: Frame) => boolean, what: string, ms = 20_000): Promise<Frame> {
    const found = this.parsed().find(match);
    return found ?? this.next(match, what, ms);
  }

  /** Sends an action and resolves with its answer (ack or error). */
  send(action: { type: string; [field: string]: unknown }): Promise<Frame> {
    const id = `t${this.nextId++}`;
    const answer = this.next(
      (f) => (f.type === "ack" || f.type === "error") && f.id === id,
      `an answer to ${action.type}`,
    );
    this.ws.send(JSON.stringify({ ...action, id }));
    return answer;
  }

  /** Sends an action that must be acked; returns the ack's seq. */
  async act(action: { type: string; [field: string]: unknown }): Promise<number> {
    const answer = await this.send(action);
    if (answer.type !== "ack") throw new Error(`${action.type} refused: ${answer.code} ${answer.message}`);
    return answer.seq as number;
  }

  parsed(): Frame[] {
    return this.frames.map((text) => JSON.parse(text) as Frame);
  }

  close(): void {
    this.waiters.length = 0;
    this.ws.close();
  }

  private fail(reason: string): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(reason));
  }
}
