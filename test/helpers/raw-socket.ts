import WebSocket from "ws";

/**
 * A WebSocket without the SDK, for tests that play a hostile or careless
 * client: every frame it receives is kept, and `next` waits for a kind of frame.
 */

export type Frame = { type: string; code?: string; id?: string; seq?: number; [field: string]: unknown };
export type RawSocket = { ws: WebSocket; frames: Frame[]; closed: Promise<number> };

/** Opens a socket and resolves once its first frame (the welcome) has arrived. */
export function openRaw(url: string, options?: WebSocket.ClientOptions): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    const frames: Frame[] = [];
    const closed = new Promise<number>((done) => ws.on("close", (code) => done(code)));
    ws.on("message", (data) => {
      frames.push(JSON.parse(data.toString()) as Frame);
      if (frames.length === 1) resolve({ ws, frames, closed });
    });
    ws.on("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.on("error", reject);
  });
}

/** Resolves with the first frame from index `from` on that passes `match` (frames already received count). */
export function nextFrame(socket: RawSocket, match: (frame: Frame) => boolean, from = 0): Promise<Frame> {
  const seen = socket.frames.slice(from).find(match);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const frame = JSON.parse(data.toString()) as Frame;
      if (!match(frame)) return;
      socket.ws.off("message", onMessage);
      resolve(frame);
    };
    socket.ws.on("message", onMessage);
  });
}

/** The answer to `id`: its ack or its error. */
export function answerTo(socket: RawSocket, id: string, from = 0): Promise<Frame> {
  return nextFrame(socket, (f) => (f.type === "ack" || f.type === "error") && f.id === id, from);
}
