import { randomInt } from "node:crypto";

/** No 0/O, 1/I/L: codes are read aloud and typed from screens. */
export const CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
export const CODE_LENGTH = 6;

const CODE_PATTERN = new RegExp(`^[${CODE_ALPHABET}]{${CODE_LENGTH}}$`);

/** Canonical (upper-case) code, or null when the input is not a lobby code. */
export function parseLobbyCode(input: unknown): string | null {
  if (typeof input !== "string" || input.length !== CODE_LENGTH) return null;
  const upper = input.toUpperCase();
  return CODE_PATTERN.test(upper) ? upper : null;
}

export function generateLobbyCode(): string {
  let code = "";
  for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
}

/** The lobby code in a public path (`/api/lobbies/:code...` or `/ws/:code`), if the path names one. */
export function lobbyCodeSegment(pathname: string): { kind: "api" | "ws"; raw: string } | null {
  const match = /^\/(?:api\/lobbies|ws)\/([^/?#]*)/.exec(pathname);
  if (!match) return null;
  return { kind: pathname.startsWith("/ws/") ? "ws" : "api", raw: decodeURIComponentSafe(match[1] ?? "") };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
