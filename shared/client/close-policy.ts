import type { CloseCode } from "../wire.js";
import type { LobbyConnectionOptions } from "./connection-types.js";

/**
 * What a LobbyConnection makes of a socket's close: which closes end it for
 * good (by their code, or by how many came in a row before a welcome), and
 * which hand the lobby over (come back fast). Apart from the connection so
 * that what each code means reads in one place, and the socket lifecycle
 * without it.
 */

// Typed against CloseCode so they cannot drift; wire.ts is imported for types only.
const RESTART: (typeof CloseCode)["Restart"] = 1012;
const NOT_OWNER: (typeof CloseCode)["NotOwner"] = 4421;
const REPLACED: (typeof CloseCode)["Replaced"] = 4000;
const POLICY: (typeof CloseCode)["Policy"] = 1008;
const LOBBY_CLOSED: (typeof CloseCode)["LobbyClosed"] = 4004;
/** The server's normal close: the player left the lobby. */
const NORMAL = 1000;

/** When to give up: what each close code means, and closes before a welcome counted. */
export class ClosePolicy {
  private failedHandshakes = 0;
  private failingSince = 0;

  constructor(private readonly options: Pick<LobbyConnectionOptions, "maxFailedHandshakes" | "giveUpAfterMs">) {}

  /** A welcome: the closes before one are counted from zero again. */
  welcomed(): void {
    this.failedHandshakes = 0;
  }

  /** A socket closed (`welcomed`: after its welcome): why the connection ends for good, or undefined to reconnect. */
  closed(code: number, reason: string, welcomed: boolean): string | undefined {
    if (!welcomed && this.failedHandshakes++ === 0) this.failingSince = Date.now();
    const detail = reason ? `: ${reason}` : "";
    if (code === REPLACED) return `replaced by a newer connection of the same player${detail}`;
    if (code === POLICY) return `closed by the server for policy${detail}`;
    if (code === LOBBY_CLOSED) return `the lobby is closed${detail}`;
    if (code === NORMAL && welcomed) return `closed by the server${detail}`;
    const limit = this.options.maxFailedHandshakes ?? 8;
    const patienceMs = this.options.giveUpAfterMs ?? 300_000;
    // Browsers report a refused handshake (401, 404) only as a 1006 close, so
    // repeated closes before any welcome are how we learn it is hopeless. Both
    // a count and a time: a node restarting, a failover or a database outage refuse for a while.
    if (this.failedHandshakes >= limit && Date.now() - this.failingSince >= patienceMs) {
      return `${this.failedHandshakes} connection attempts in a row closed before a welcome (last: ${code}${detail})`;
    }
    return undefined;
  }
}

/** A restart or "not the owner" close: the lobby is handed to another node. */
export function isHandoffClose(code: number): boolean {
  return code === RESTART || code === NOT_OWNER;
}
