import http from "node:http";
import WebSocket from "ws";

/**
 * The three loads of bench:chat, all through the balancer. A chat counts
 * when its broadcast comes back to the socket that sent it (the event frame,
 * which a durable node sends only after the commit). Frames are matched by
 * the chat's text, a tag unique in the run, cut out of the frame without
 * parsing it so the load generator spends little of the two cores.
 */

export type Player = { code: string; token: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function postJson(url: string, body: unknown): Promise<{ status: number; body: Record<string, string> }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

export async function createPlayers(base: string, count: number): Promise<Player[]> {
  const players: Player[] = [];
  let left = count;
  const worker = async () => {
    while (left > 0) {
      left--;
      players.push(await createOne(base));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return players;
}

/** A create the cluster could not take just now (503: moving, busy; 409: code taken) is retried, as the SDK does. */
async function createOne(base: string): Promise<Player> {
  for (let attempt = 1; ; attempt++) {
    const res = await postJson(`${base}/api/lobbies`, { name: "bench" });
    if (res.status === 201) return { code: res.body.code as string, token: res.body.token as string };
    if ((res.status !== 503 && res.status !== 409) || attempt >= 20) {
      throw new Error(`create: ${res.status} ${JSON.stringify(res.body)}`);
    }
    await sleep(100 * attempt);
  }
}

/** One player's socket; `onEcho` hears the tag of each of its own chats that came back as an event. */
export class ChatSocket {
  onEcho: (tag: string) => void = () => {};

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const text = data.toString();
      if (!text.startsWith('{"type":"event"')) return;
      const at = text.indexOf('"text":"');
      if (at < 0) return;
      const start = at + 8;
      this.onEcho(text.slice(start, text.indexOf('"', start)));
    });
  }

  static open(wsBase: string, player: Player): Promise<ChatSocket> {
    return new Promise((resolve, reject) => {
      const url = `${wsBase}/ws/${player.code}?token=${encodeURIComponent(player.token)}`;
      const ws = new WebSocket(url, { perMessageDeflate: false });
      const socket = new ChatSocket(ws);
      const onWelcome = (data: WebSocket.RawData) => {
        if (!data.toString().startsWith('{"type":"welcome"')) return;
        ws.off("message", onWelcome);
        resolve(socket);
      };
      ws.on("message", onWelcome);
      ws.once("error", reject);
      ws.once("close", (code) => reject(new Error(`closed before the welcome (${code})`)));
    });
  }

  send(tag: string): void {
    this.ws.send(`{"type":"chat","id":"${tag}","text":"${tag}"}`);
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    const closed = new Promise<void>((r) => this.ws.once("close", () => r()));
    this.ws.close();
    return closed;
  }
}

let tagCounter = 0;
const nextTag = () => `c${(tagCounter++).toString(36)}`;

/** Sequential round trips on one socket: send, wait for the broadcast, send the next. */
export async function roundTrips(socket: ChatSocket, count: number, warmUp = 50): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count + warmUp; i++) {
    const tag = nextTag();
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no broadcast of ${tag} within 10 s`)), 10_000);
      socket.onEcho = (echo) => {
        if (echo !== tag) return;
        clearTimeout(timer);
        resolve();
      };
      socket.send(tag);
    });
    if (i >= warmUp) samples.push(performance.now() - started);
  }
  return samples;
}

/** Every socket keeps `inFlight` chats outstanding for `ms`; returns broadcasts back per second. */
export async function throughput(sockets: ChatSocket[], inFlight: number, ms: number): Promise<number> {
  let counting = false;
  let running = true;
  let done = 0;
  let outstanding = 0;
  for (const socket of sockets) {
    socket.onEcho = () => {
      outstanding--;
      if (counting) done++;
      if (!running) return;
      outstanding++;
      socket.send(nextTag());
    };
    for (let i = 0; i < inFlight; i++, outstanding++) socket.send(nextTag());
  }
  await sleep(1000); // warm-up: the group commit finds its batch size
  counting = true;
  const started = performance.now();
  await sleep(ms);
  counting = false;
  const seconds = (performance.now() - started) / 1000;
  running = false;
  const deadline = Date.now() + 10_000;
  while (outstanding > 0 && Date.now() < deadline) await sleep(20);
  return done / seconds;
}

/** `concurrency` clients creating lobbies through the balancer for `ms`: creates/s and refusals. */
export async function creations(
  base: string,
  concurrency: number,
  ms: number,
): Promise<{ rate: number; failed: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL(`${base}/api/lobbies`);
  const body = JSON.stringify({ name: "bench" });
  const one = () =>
    new Promise<number>((resolve) => {
      const req = http.request(
        url,
        { method: "POST", agent, headers: { "content-type": "application/json", "content-length": body.length } },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", () => resolve(0));
      req.end(body);
    });
  let running = true;
  let ok = 0;
  let failed = 0;
  const worker = async () => {
    while (running) {
      if ((await one()) === 201) ok++;
      else failed++;
    }
  };
  const started = performance.now();
  const workers = Array.from({ length: concurrency }, worker);
  await sleep(ms);
  running = false;
  await Promise.all(workers);
  agent.destroy();
  return { rate: ok / ((performance.now() - started) / 1000), failed };
}
