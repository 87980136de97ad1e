import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { probeOnce } from "../../balancer/health-probe.js";

/** A local port with nothing listening on it (bound once, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function blockEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // A balancer busy with thousands of sockets at once: nothing else runs meanwhile.
  }
}

describe("probeOnce", () => {
  it("reads a refusal as refused, also when the event loop lagged past the deadline", async () => {
    const port = await closedPort();
    const probe = probeOnce(`http://127.0.0.1:${port}`, 20);
    // When the loop comes back, both the 20 ms deadline and the refusal are due in the same turn.
    blockEventLoop(200);
    const { outcome } = await probe;
    expect(outcome).toBe("refused");
  });
});
