import { afterEach, describe, expect, it } from "vitest";
import { type HeartbeatTarget, SocketHeartbeat } from "../../node/socket-heartbeat.js";

const PERIOD = 3000;
const TICK = PERIOD / 30;

class FakeSocket implements HeartbeatTarget {
  pingedAt: number | null = null;
  pings: number[] = [];
  terminatedAt: number | null = null;
  constructor(private readonly clock: { now: number }) {}
  ping(): void {
    this.pings.push(this.clock.now);
  }
  terminate(): void {
    // ws closes a terminated socket later; a visit meanwhile may terminate it again.
    this.terminatedAt ??= this.clock.now;
  }
}

describe("socket heartbeat: a slice of the sockets per tick, death judged by time", () => {
  const clock = { now: 0 };
  let heartbeat: SocketHeartbeat<FakeSocket> | null = null;
  const start = (sockets: Set<FakeSocket>) => {
    clock.now = 0;
    heartbeat = new SocketHeartbeat(sockets, PERIOD, { now: () => clock.now, manual: true });
    return heartbeat;
  };
  /** Runs `ticks` ticks, the clock moving one tick's time before each; returns the pings of each tick. */
  const run = (h: SocketHeartbeat<FakeSocket>, sockets: Set<FakeSocket>, ticks: number, answer: boolean) => {
    const perTick: number[] = [];
    for (let i = 0; i < ticks; i++) {
      clock.now += TICK;
      const before = [...sockets].reduce((n, s) => n + s.pings.length, 0);
      h.tick();
      perTick.push([...sockets].reduce((n, s) => n + s.pings.length, 0) - before);
      if (answer) for (const s of sockets) h.answered(s);
    }
    return perTick;
  };

  afterEach(() => heartbeat?.stop());

  it("pings 20,000 sockets once per period, never more than a thirtieth of them in one tick", () => {
    const sockets = new Set(Array.from({ length: 20_000 }, () => new FakeSocket(clock)));
    const h = start(sockets);
    const perTick = run(h, sockets, 30, true);
    expect(Math.max(...perTick)).toBeLessThanOrEqual(Math.ceil(20_000 / 30));
    expect([...sockets].every((s) => s.pings.length === 1)).toBe(true);
    run(h, sockets, 30, true);
    expect([...sockets].every((s) => s.pings.length === 2)).toBe(true);
    expect([...sockets].some((s) => s.terminatedAt !== null)).toBe(false);
  });

  it("terminates a silent socket once its ping is a period old, and not before", () => {
    const sockets = new Set(Array.from({ length: 90 }, () => new FakeSocket(clock)));
    const h = start(sockets);
    run(h, sockets, 4 * 31, false);
    for (const s of sockets) {
      expect(s.pings).toHaveLength(1);
      expect(s.terminatedAt).not.toBeNull();
      expect((s.terminatedAt as number) - (s.pings[0] as number)).toBeGreaterThanOrEqual(PERIOD);
      expect((s.terminatedAt as number) - (s.pings[0] as number)).toBeLessThanOrEqual(2 * PERIOD + 2 * TICK);
    }
  });

  it("does not terminate early when the set shrinks mid-cycle and a socket's next visit comes sooner", () => {
    const sockets = new Set(Array.from({ length: 3000 }, () => new FakeSocket(clock)));
    const last = [...sockets].at(-1) as FakeSocket;
    const h = start(sockets);
    run(h, sockets, 30, false);
    expect(last.pings).toHaveLength(1);
    for (const s of [...sockets].slice(0, -2)) sockets.delete(s);
    // Two sockets left: the next cycle visits them within its first ticks, long before the last one's
    // ping (sent at the end of the first cycle) is a period old.
    run(h, sockets, 10, false);
    expect(last.terminatedAt).toBeNull();
    run(h, sockets, 30, false);
    expect(last.terminatedAt).not.toBeNull();
  });

  it("pings a handful of sockets once per period, not once per tick", () => {
    const sockets = new Set([new FakeSocket(clock), new FakeSocket(clock)]);
    const h = start(sockets);
    run(h, sockets, 10 * 30, true);
    for (const s of sockets) expect(s.pings.length).toBeGreaterThanOrEqual(9);
    for (const s of sockets) expect(s.pings.length).toBeLessThanOrEqual(10);
  });

  it("sleeps a whole period between cycles, and with nobody connected", () => {
    const empty = new Set<FakeSocket>();
    const h = start(empty);
    clock.now = 10_000;
    expect(h.tick()).toBe(PERIOD);
    const sockets = new Set(Array.from({ length: 200 }, () => new FakeSocket(clock)));
    const busy = start(sockets);
    clock.now = 10_000;
    const delays = [busy.tick()];
    while (delays.length < 40 && (delays.at(-1) as number) <= TICK) {
      clock.now += TICK;
      delays.push(busy.tick());
    }
    // Slices of 7 sockets, one tick apiece (29 ticks); the last one returns the wait until the next cycle.
    expect(delays).toHaveLength(29);
    expect(delays.slice(0, 28).every((d) => d === TICK)).toBe(true);
    expect(delays.at(-1)).toBe(PERIOD - 28 * TICK);
    expect([...sockets].every((s) => s.pings.length === 1)).toBe(true);
  });
});
