import http from "node:http";
import type { Socket } from "node:net";
import type { EventBus } from "../shared/bus/index.js";
import { type MembershipMessage, Topic } from "../shared/bus/topics.js";
import { markNodeDead, type NodeRow } from "../shared/db/membership.js";
import type { Queryable } from "../shared/db/pool.js";
import type { Logger } from "../shared/log.js";

/**
 * Speeds up death detection. A node whose port refuses connections is gone
 * (its process exited); after a few refused probes in a row this balancer
 * records it dead in Postgres, and every balancer then drops it from the
 * ring. A node that merely does not answer (paused, overloaded) is left to
 * lease expiry: a timeout is no proof of death, and a wrong kill would move
 * its lobbies.
 *
 * Evidence is what this balancer saw itself: its probes, and its own connects
 * to the node that were refused (nothing listens there). A proxied request
 * that was reset only asks for a probe now (checkSoon): a client can make a
 * node reset its own connection (a head just over the node's limit,
 * garbage), and must never be able to get a node declared dead.
 */

export type ProbeOptions = {
  balancerId: string;
  intervalMs: number;
  failuresToKill: number;
  /** Re-probe delay once a node is suspect. */
  suspectIntervalMs?: number;
};

export type ProbeState = { suspect: boolean; failures: number; lastError: string | null };

/**
 * "unreachable": no connection within the deadline. Neither proof of death nor
 * of life (a black-holed host; or this balancer's own event loop so late that
 * the deadline ran out before the pending refusal was read), so it neither
 * counts nor breaks a run of refusals.
 */
type Outcome = "ok" | "refused" | "timeout" | "unreachable";

type Watched = {
  node: NodeRow;
  state: ProbeState;
  timer: NodeJS.Timeout | null;
  probing: boolean;
  lastProbeAt: number;
  /** When a probe last got an answer (Date.now()); 0: never. */
  lastOkAt: number;
  killing: boolean;
};

/** ECONNREFUSED, or a reset before any response: nobody is listening there any more. */
export function isRefusal(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === "ECONNREFUSED" || code === "ECONNRESET";
}

export class HealthProbe {
  private readonly watched = new Map<string, Watched>();
  private stopped = false;
  /**
   * Probes reuse one kept-alive connection per node: a fresh TCP connection
   * (and a request parsed from scratch) several times a second per node was
   * most of an idle balancer's work. A reused connection cannot hide a dead
   * node: when the node's process dies its kernel closes the connection, which
   * asks for a probe at once, and that probe must connect anew (refused).
   */
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 });
  private readonly seenSockets = new WeakSet<object>();

  constructor(
    private readonly db: Queryable,
    private readonly bus: EventBus,
    private readonly logger: Logger,
    private readonly options: ProbeOptions,
    /** Called after this balancer recorded a death, to re-read membership at once. */
    private readonly onDead: (id: string) => void,
  ) {}

  /** Follows the latest node rows: probes every node that is not dead. */
  update(nodes: readonly NodeRow[]): void {
    if (this.stopped) return;
    const live = new Map(nodes.filter((n) => n.state !== "dead").map((n) => [n.id, n]));
    for (const [id, w] of this.watched) {
      const node = live.get(id);
      if (!node || node.incarnation !== w.node.incarnation || node.url !== w.node.url) this.unwatch(id);
    }
    for (const node of live.values()) {
      const w = this.watched.get(node.id);
      if (w) w.node = node;
      else this.watch(node);
    }
  }

  /**
   * A proxied request to this node was refused or reset: probe it now (or as
   * soon as the suspect interval allows; a flood of failures makes one probe
   * per interval, not one per failure). Counts nothing by itself.
   */
  checkSoon(id: string): void {
    const w = this.watched.get(id);
    if (!w || w.probing) return;
    const gapMs = this.suspectIntervalMs();
    this.schedule(w, Math.max(0, w.lastProbeAt + gapMs - Date.now()));
  }

  /** Whether a probe of this node got an answer after `since` (requests refused meanwhile may go there again). */
  answeredSince(id: string, since: number): boolean {
    return (this.watched.get(id)?.lastOkAt ?? 0) > since;
  }

  /** Called after every probe outcome (requests held after a refusal wait for one). */
  onOutcome: () => void = () => {};

  /**
   * A proxied connection to this node was refused. Unlike a reset (which a client can provoke), a refused
   * connect means nothing listens there: it counts as a refused probe would, at most once per suspect
   * interval, so a burst of refusals is one piece of evidence. Under a reconnect storm the balancer's own
   * probes may be late; its players' connections are not.
   */
  refused(id: string, err: unknown): void {
    const w = this.watched.get(id);
    if (!w) return;
    if (Date.now() - w.lastProbeAt >= this.suspectIntervalMs()) {
      this.record(w, "refused", err);
      this.onOutcome();
    }
    this.checkSoon(id);
  }

  state(id: string): ProbeState | null {
    return this.watched.get(id)?.state ?? null;
  }

  stop(): void {
    this.stopped = true;
    for (const id of [...this.watched.keys()]) this.unwatch(id);
    this.agent.destroy();
  }

  private watch(node: NodeRow): void {
    const w: Watched = {
      node,
      state: { suspect: false, failures: 0, lastError: null },
      timer: null,
      probing: false,
      lastProbeAt: 0,
      lastOkAt: 0,
      killing: false,
    };
    this.watched.set(node.id, w);
    this.schedule(w, 0);
  }

  private unwatch(id: string): void {
    const w = this.watched.get(id);
    if (w?.timer) clearTimeout(w.timer);
    this.watched.delete(id);
  }

  private schedule(w: Watched, delayMs: number): void {
    if (w.probing || this.watched.get(w.node.id) !== w) return;
    if (w.timer) clearTimeout(w.timer);
    w.timer = setTimeout(() => void this.probe(w), delayMs);
    w.timer.unref();
  }

  private async probe(w: Watched): Promise<void> {
    w.timer = null;
    w.probing = true;
    const { outcome, err } = await probeOnce(w.node.url, Math.max(this.options.intervalMs * 4, 1000), {
      agent: this.agent,
      onSocket: (socket) => this.followSocket(w.node.id, socket),
    });
    w.probing = false;
    if (this.watched.get(w.node.id) !== w) return;
    this.record(w, outcome, err);
    this.onOutcome();
    this.schedule(w, w.state.suspect ? this.suspectIntervalMs() : this.options.intervalMs);
  }

  /** The node closed the kept-alive connection (it may have died): look again now, not at the next interval. */
  private followSocket(id: string, socket: Socket): void {
    if (this.seenSockets.has(socket)) return;
    this.seenSockets.add(socket);
    socket.once("close", () => {
      if (!this.stopped) this.checkSoon(id);
    });
  }

  private suspectIntervalMs(): number {
    return this.options.suspectIntervalMs ?? Math.min(50, this.options.intervalMs);
  }

  private record(w: Watched, outcome: Outcome, err?: unknown): void {
    w.lastProbeAt = Date.now();
    if (outcome === "ok") {
      w.lastOkAt = w.lastProbeAt;
      if (w.state.suspect) this.logger.info({ node: w.node.id }, "node answers probes again");
      w.state = { suspect: false, failures: 0, lastError: null };
      return;
    }
    w.state.lastError = (err as Error | undefined)?.message ?? outcome;
    if (outcome === "unreachable") return;
    // A timeout (connected, no answer) breaks a run of refusals: the node is there, just slow.
    if (outcome === "timeout") {
      w.state.failures = 0;
      return;
    }
    w.state.failures += 1;
    if (!w.state.suspect) this.logger.warn({ node: w.node.id, err: w.state.lastError }, "node suspect: refused");
    w.state.suspect = true;
    if (w.state.failures >= this.options.failuresToKill) void this.declareDead(w);
  }

  private async declareDead(w: Watched): Promise<void> {
    if (w.killing) return;
    w.killing = true;
    const id = w.node.id;
    const reason = `refused connections (balancer ${this.options.balancerId})`;
    try {
      if (await markNodeDead(this.db, id, reason, w.node.incarnation)) {
        this.logger.warn({ node: id, failures: w.state.failures }, "node marked dead");
        const message: MembershipMessage = { nodeId: id, state: "dead", reason };
        await this.bus.publish(Topic.Membership, message).catch((e: unknown) => {
          this.logger.warn({ err: e }, "could not publish node death");
        });
      }
      this.unwatch(id);
      this.onDead(id);
    } catch (e) {
      this.logger.warn({ err: e, node: id }, "could not mark node dead; will retry");
    } finally {
      w.killing = false;
    }
  }
}

/**
 * One GET /healthz: on a fresh connection by default, or on the given
 * keep-alive agent's (kept only after a complete answer; any failure
 * destroys it, so the next probe connects anew).
 */
export function probeOnce(
  baseUrl: string,
  timeoutMs: number,
  reuse?: { agent: http.Agent; onSocket: (socket: Socket) => void },
): Promise<{ outcome: Outcome; err?: unknown }> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (outcome: Outcome, err?: unknown) => {
      if (settled) return;
      settled = true;
      if (outcome !== "ok" || !reuse) req.destroy();
      resolve({ outcome, err });
    };
    const req = http.get(new URL("/healthz", baseUrl), { agent: reuse?.agent ?? false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.once("end", () => done("ok"));
      res.once("error", (err) => done("timeout", err));
    });
    if (reuse) req.once("socket", reuse.onSocket);
    // The deadline is a timer, and timers run before the I/O of the same loop turn: on a balancer whose loop
    // lags past the deadline (thousands of sockets closing at once) a refusal already received would lose the
    // race and read as "unreachable", again and again. Decide one turn later, after that I/O.
    req.on("timeout", () =>
      setImmediate(() => {
        const connected = req.socket !== null && !req.socket.connecting;
        done(connected ? "timeout" : "unreachable", new Error(`no answer in ${timeoutMs} ms`));
      }),
    );
    req.on("error", (err) => done(isRefusal(err) ? "refused" : "timeout", err));
  });
}
