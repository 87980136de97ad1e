/**
 * Who this tab is in which lobby: the token from create/join, kept in
 * sessionStorage (per tab, so two tabs can be two players) so that a reload
 * resumes the same seat, with the last seq seen for `since`.
 */

export type PlayerSession = {
  code: string;
  playerId: string;
  token: string;
  name: string;
  /** The lobby's game (sessions saved before games had none: the page asks the server). */
  gameId?: string;
  seq?: number;
};

/** Lobby codes: 6 characters without look-alikes (shared/lobby-code.ts imports node:crypto, so not bundled). */
const CODE_PATTERN = /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$/;

const key = (code: string) => `ringside.session.${code}`;

/** The canonical code, or null when the text is not one. */
export function parseCode(text: string | null | undefined): string | null {
  const upper = (text ?? "").trim().toUpperCase();
  return CODE_PATTERN.test(upper) ? upper : null;
}

export function loadSession(code: string): PlayerSession | undefined {
  try {
    const value = JSON.parse(sessionStorage.getItem(key(code)) ?? "null") as Partial<PlayerSession> | null;
    if (value?.code !== code || typeof value.token !== "string" || typeof value.playerId !== "string") return undefined;
    const gameId = typeof value.gameId === "string" ? value.gameId : undefined;
    return { code, playerId: value.playerId, token: value.token, name: value.name ?? "", gameId, seq: value.seq };
  } catch {
    return undefined; // unreadable or blocked storage: start over
  }
}

export function saveSession(session: PlayerSession): void {
  try {
    sessionStorage.setItem(key(session.code), JSON.stringify(session));
  } catch {
    // Storage full or disabled: the game still works, a reload just cannot resume.
  }
}

export function forgetSession(code: string): void {
  sessionStorage.removeItem(key(code));
}

/** The last player name used in this browser, to prefill the form. */
export function lastName(): string {
  return localStorage.getItem("ringside.name") ?? "";
}

export function rememberName(name: string): void {
  localStorage.setItem("ringside.name", name);
}
