import type { ServerFrame } from "../wire.js";

/**
 * A server frame, checked before the connection acts on it: the fields each
 * type is read for are there with the right types. Anything else (not JSON,
 * `null`, an array, a welcome without its lobby, an event without its entry)
 * is dropped: a broken or hostile server must never make the SDK throw out of
 * a socket handler (in Node, an uncaught exception that ends the process).
 */
export function readServerFrame<S, E>(text: string): ServerFrame<S, E> | undefined {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(frame)) return undefined;
  const ok = CHECKS[frame.type as string]?.(frame) ?? false;
  return ok ? (frame as ServerFrame<S, E>) : undefined;
}

type Frame = Record<string, unknown>;

const CHECKS: Record<string, (f: Frame) => boolean> = {
  welcome: (f) => typeof f.node === "string" && isSeq(f.seq) && typeof f.player === "string" && isLobby(f.lobby),
  event: (f) => isSeq(f.seq) && isEntry(f.event),
  ack: (f) => typeof f.id === "string" && (f.seq === undefined || isSeq(f.seq)),
  // The id is not checked: an error about a frame the server could not read may echo whatever id it had.
  error: (f) => typeof f.code === "string" && typeof f.message === "string",
  announcement: (f) => typeof f.text === "string",
  dm: (f) => typeof f.text === "string" && isObject(f.from),
  signal: (f) => typeof f.from === "string",
  reconnect: (f) => typeof f.reason === "string",
};

function isObject(value: unknown): value is Frame {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isSeq(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isLobby(value: unknown): boolean {
  return (
    isObject(value) &&
    isSeq(value.seq) &&
    Array.isArray(value.players) &&
    value.players.every(isObject) &&
    Array.isArray(value.chat)
  );
}

/** The fields the client's fold reads (lobby-fold.ts), per kind. */
function isEntry(value: unknown): boolean {
  if (!isObject(value) || typeof value.kind !== "string") return false;
  if ("events" in value && !Array.isArray(value.events)) return false;
  switch (value.kind) {
    case "lobby_created":
    case "player_joined":
      return typeof value.playerId === "string" && typeof value.name === "string";
    case "player_left":
      return typeof value.playerId === "string";
    case "chat":
      return typeof value.playerId === "string" && typeof value.text === "string";
    case "closed":
      return typeof value.reason === "string";
    default:
      return true;
  }
}
