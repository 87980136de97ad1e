import http from "node:http";
import WebSocket from "ws";
import { cpuMsOf } from "./bench-kit.js";

/**
 * The two loads of bench:balancer, run one way (direct, Ringside balancer,
 * HAProxy) at a time: every player keeps one chat action in flight over its
 * WebSocket, then keep-alive lobby GETs. Apart from balancer.bench.ts, which
 * starts the processes, rotates the ways and reports.
 */

export type Lobby = { code: string; owner: string; tokens: string[] };
/** `proxyPid`: the process in the path whose CPU per request is reported (none when direct). */
export type Way = { name: string; base: (owner: string) => string; proxyPid?: number };

/** One way's measurements over all rounds. */
export type Tally = {
  samples: number[];
  wsSeconds: number;
  ok: number;
  errors: number;
  httpSeconds: number;
  proxyCpuMs: number;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Client = { ws: WebSocket; sentAt: number; id: string; onAck: () => void };

async function connectAll(way: Way, lobbies: Lobby[]): Promise<Client[]> {
  const players = lobbies.flatMap((l) => l.tokens.map((token) => ({ l, token })));
  return Promise.all(
    players.map(
      ({ l, token }) =>
        new Promise<Client>((resolve, reject) => {
          const base = way.base(l.owner).replace("http", "ws");
          const ws = new WebSocket(`${base}/ws/${l.code}?token=${encodeURIComponent(token)}`, {
            perMessageDeflate: false,
          });
          const client: Client = { ws, sentAt: 0, id: "", onAck: () => {} };
          ws.on("message", (data) => {
            const text = data.toString();
            if (text.startsWith('{"type":"welcome"')) resolve(client);
            else if (text.startsWith('{"type":"ack"') && text.includes(`"id":"${client.id}"`)) client.onAck();
          });
          ws.on("error", reject);
        }),
    ),
  );
}

let chatCounter = 0;
function sendChat(c: Client): void {
  c.id = (chatCounter++).toString(36);
  c.sentAt = performance.now();
  c.ws.send(JSON.stringify({ type: "chat", id: c.id, text: "gg" }));
}

/** `ms`: how long the round trips are measured (after a warm-up). */
export async function wsLoad(way: Way, lobbies: Lobby[], tally: Tally, ms: number): Promise<void> {
  const clients = await connectAll(way, lobbies);
  let samples: number[] | null = null;
  let running = true;
  for (const c of clients) {
    c.onAck = () => {
      samples?.push(performance.now() - c.sentAt);
      if (running) sendChat(c);
    };
    sendChat(c);
  }
  await sleep(500); // warm-up
  samples = tally.samples;
  const started = performance.now();
  await sleep(ms);
  samples = null;
  tally.wsSeconds += (performance.now() - started) / 1000;
  running = false;
  await Promise.all(
    clients.map((c) => {
      const closed = new Promise((r) => c.ws.once("close", r));
      c.ws.close();
      return closed;
    }),
  );
}

/** `ms`: how long the answers are counted (after a warm-up); `concurrency`: requests in flight. */
export async function httpLoad(
  way: Way,
  lobbies: Lobby[],
  tally: Tally,
  ms: number,
  concurrency: number,
): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let counting = false;
  let running = true;
  let next = 0;
  const one = (url: string) =>
    new Promise<number>((resolve) => {
      http
        .get(url, { agent }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        })
        .on("error", () => resolve(0));
    });
  const worker = async () => {
    while (running) {
      const l = lobbies[next++ % lobbies.length] as Lobby;
      const status = await one(`${way.base(l.owner)}/api/lobbies/${l.code}`);
      if (!counting) continue;
      if (status === 200) tally.ok++;
      else tally.errors++;
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  await sleep(500); // warm-up: connections open
  counting = true;
  const started = performance.now();
  const cpuBefore = way.proxyPid ? cpuMsOf(way.proxyPid) : 0;
  await sleep(ms);
  counting = false;
  tally.proxyCpuMs += way.proxyPid ? cpuMsOf(way.proxyPid) - cpuBefore : 0;
  tally.httpSeconds += (performance.now() - started) / 1000;
  running = false;
  await Promise.all(workers);
  agent.destroy();
}
