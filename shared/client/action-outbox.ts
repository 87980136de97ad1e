import type { ActionAck, LobbyConnectionOptions } from "./connection-types.js";
import { ActionTimeoutError } from "./errors.js";
import { SendPacer } from "./send-pacer.js";

/**
 * A LobbyConnection's actions on their way: each unacked one with its
 * promise's settle functions and its ack timeout, in the order they were
 * sent (a welcome re-sends them in that order), and the pacer they go out
 * through. Apart from the connection so that its socket lifecycle reads
 * without this bookkeeping.
 */

/** Until a welcome says otherwise: the node's default per-connection limit. */
const DEFAULT_LIMITS = { actionsPerSecond: 20, actionBurst: 40 };

export type WireAction = { type: string; id: string; [field: string]: unknown };

export type PendingAction = {
  message: WireAction;
  resolve: (ack: ActionAck) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
};

export class ActionOutbox {
  private readonly pacer = new SendPacer(DEFAULT_LIMITS.actionsPerSecond, DEFAULT_LIMITS.actionBurst);
  private readonly unacked = new Map<string, PendingAction>();

  constructor(private readonly options: Pick<LobbyConnectionOptions, "ackTimeoutMs">) {}

  get size(): number {
    return this.unacked.size;
  }

  has(id: string): boolean {
    return this.unacked.has(id);
  }

  /** Oldest first. */
  values(): IterableIterator<PendingAction> {
    return this.unacked.values();
  }

  /** Waits for the ack of `message`; it is rejected with ActionTimeoutError if none comes in time. */
  add(message: WireAction, resolve: (ack: ActionAck) => void, reject: (error: Error) => void): void {
    const timer = setTimeout(() => this.expire(message.id), this.options.ackTimeoutMs ?? 10_000);
    this.unacked.set(message.id, { message, resolve, reject, timer });
  }

  /** Removes an action (its timer stopped), for the caller to settle. */
  take(id: string): PendingAction | undefined {
    const pending = this.unacked.get(id);
    if (!pending) return undefined;
    this.unacked.delete(id);
    clearTimeout(pending.timer);
    return pending;
  }

  rejectAll(error: Error): void {
    for (const id of [...this.unacked.keys()]) this.take(id)?.reject(error);
  }

  /** The limits a welcome names (the node's default when it names none). */
  setLimits(welcomed: { actionsPerSecond: number; actionBurst: number } | undefined): void {
    // Limits no pacer can run on (zero, negative, not numbers) would stall every send or spin its timer.
    const usable = (n: unknown) => typeof n === "number" && Number.isFinite(n) && n > 0;
    const valid = usable(welcomed?.actionsPerSecond) && usable(welcomed?.actionBurst);
    const limits = valid && welcomed ? welcomed : DEFAULT_LIMITS;
    // A margin under the node's own bucket: frames may arrive closer together than they left.
    this.pacer.reset(limits.actionsPerSecond * 0.9, Math.max(1, limits.actionBurst - 2));
  }

  /** Runs `send` when the pace allows it, unless the action was settled while it waited. */
  schedule(message: WireAction, send: () => void): void {
    this.pacer.schedule(() => {
      if (!this.unacked.has(message.id)) return; // settled while it waited
      send();
    });
  }

  /** Forgets what waits for its turn (the socket closed: the welcome re-sends what is unacked). */
  clearSchedule(): void {
    this.pacer.clear();
  }

  private expire(id: string): void {
    const pending = this.take(id);
    pending?.reject(new ActionTimeoutError(id, this.options.ackTimeoutMs ?? 10_000));
  }
}
