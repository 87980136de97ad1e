import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";

/**
 * A TCP proxy between processes and Postgres, for the network faults a test
 * cannot get from a healthy server (and for `npm run chaos`, whose Postgres
 * stalls go through the launcher's control API to this proxy):
 * - pause(): a black hole. Nothing is forwarded either way and every socket
 *   stays open, so the client sees neither an answer nor an error; new
 *   connections are accepted and held the same way. resume() forwards what
 *   was held, like a network that heals (TCP would retransmit it).
 * - reset(): every connection through it is reset (RST), as when a server or
 *   a firewall drops them; later connections work.
 * - down(): reset, and reset every new connection too, until resume().
 */
export class TcpProxy {
  private readonly server: Server;
  private readonly pairs = new Set<Pair>();
  private mode: "forward" | "paused" | "down" = "forward";

  private constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => this.accept(client));
  }

  /** Listens on a free port of 127.0.0.1 and forwards to `target`. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await new Promise<void>((resolve) => proxy.server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  /** The same Postgres URL, through this proxy. */
  static async forUrl(url: string): Promise<{ proxy: TcpProxy; url: string }> {
    const parsed = new URL(url);
    const proxy = await TcpProxy.start({ host: parsed.hostname, port: Number(parsed.port || 5432) });
    parsed.hostname = "127.0.0.1";
    parsed.port = String(proxy.port);
    return { proxy, url: parsed.toString() };
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === "object" && address ? address.port : 0;
  }

  /** Connections open through the proxy now. */
  get connections(): number {
    return this.pairs.size;
  }

  pause(): void {
    this.mode = "paused";
  }

  reset(): void {
    for (const pair of [...this.pairs]) pair.destroy();
  }

  down(): void {
    this.mode = "down";
    this.reset();
  }

  resume(): void {
    this.mode = "forward";
    for (const pair of this.pairs) pair.flush();
  }

  async close(): Promise<void> {
    this.reset();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.mode === "down") {
      resetSocket(client);
      return;
    }
    const pair = new Pair(client, tcpConnect(this.target.port, this.target.host), () => this.mode === "forward");
    this.pairs.add(pair);
    pair.onClose = () => this.pairs.delete(pair);
  }
}

/** One client connection and its upstream one; data is held while the proxy is paused. */
class Pair {
  onClose: () => void = () => {};
  private readonly held: { to: Socket; chunk: Buffer }[] = [];
  private closed = false;

  constructor(
    private readonly client: Socket,
    private readonly upstream: Socket,
    private readonly forwarding: () => boolean,
  ) {
    this.wire(client, upstream);
    this.wire(upstream, client);
  }

  private wire(from: Socket, to: Socket): void {
    from.on("data", (chunk) => {
      if (this.forwarding()) to.write(chunk);
      else this.held.push({ to, chunk });
    });
    from.on("error", () => this.destroy());
    from.on("close", () => this.destroy());
  }

  flush(): void {
    for (const { to, chunk } of this.held.splice(0)) if (!to.destroyed) to.write(chunk);
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    resetSocket(this.client);
    resetSocket(this.upstream);
    this.onClose();
  }
}

function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  // resetAndDestroy sends RST (a dropped connection); it needs a connected socket.
  if (socket.readyState === "open") socket.resetAndDestroy();
  else socket.destroy();
}
