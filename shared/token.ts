import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { parseLobbyCode } from "./lobby-code.js";

/**
 * Player tokens: `<code>.<playerId>.<mac>`, the MAC an HMAC-SHA256 over code
 * and player id with the server's secret. A token therefore binds one player
 * to one lobby; nobody can forge one for another player or lobby.
 */

const PLAYER_ID = /^[A-Za-z0-9_-]{12}$/;

export function newPlayerId(): string {
  return randomBytes(9).toString("base64url");
}

function mac(secret: string, code: string, playerId: string): string {
  return createHmac("sha256", secret).update(`${code}.${playerId}`).digest("base64url");
}

export function signToken(secret: string, code: string, playerId: string): string {
  return `${code}.${playerId}.${mac(secret, code, playerId)}`;
}

export type TokenClaims = { code: string; playerId: string };

/** The claims of a valid token, or null. Never throws, whatever the input. */
export function verifyToken(secret: string, token: unknown): TokenClaims | null {
  if (typeof token !== "string" || token.length > 200) return null;
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  const [rawCode, playerId, given] = parts as [string, string, string];
  const code = parseLobbyCode(rawCode);
  if (!code || code !== rawCode || !PLAYER_ID.test(playerId)) return null;
  const expected = Buffer.from(mac(secret, code, playerId));
  const actual = Buffer.from(given);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return null;
  return { code, playerId };
}
