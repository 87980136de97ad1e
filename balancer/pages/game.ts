import { RingsideApi } from "../../shared/client/index.js";
import { byId } from "./dom.js";
import type { EntryChoice } from "./entry-view.js";
import { EntryView } from "./entry-view.js";
import { LobbyPage } from "./lobby-page.js";
import { initBanner, showToast } from "./notices.js";
import { screenFor } from "./screens.js";
import {
  forgetSession,
  loadSession,
  type PlayerSession,
  parseCode,
  rememberName,
  saveSession,
} from "./session-store.js";

/**
 * The game page (GET /): the entry form, or straight into the lobby when
 * this tab already has a seat there (a reload, or the link it shared). The
 * lobby is drawn by its game's screen (screens.ts), whatever game it plays.
 */

const api = new RingsideApi(location.origin);
let page: LobbyPage | undefined;

function main(): void {
  initBanner();
  const invitedTo = parseCode(new URLSearchParams(location.search).get("code"));
  const resumed = invitedTo ? loadSession(invitedTo) : undefined;
  const entry = new EntryView(
    async (choice) => {
      const session = await takeSeat(choice);
      entry.hide();
      enter(session);
    },
    () => api.listGames(),
  );
  if (resumed) void resume(resumed);
  else entry.show(invitedTo);
  byId("leave-btn").addEventListener("click", leave);
  byId("copy-link").addEventListener("click", () => void copyLink());
}

async function takeSeat(choice: EntryChoice): Promise<PlayerSession> {
  rememberName(choice.name);
  if (choice.action === "create") {
    const created = await api.createLobby(choice.name, { game: choice.game, options: choice.options });
    const { code, playerId, token } = created;
    return { code, playerId, token, name: choice.name, gameId: created.game };
  }
  const joined = await api.joinLobby(choice.code, choice.name);
  const session = { code: choice.code, playerId: joined.playerId, token: joined.token, name: choice.name };
  return { ...session, gameId: await gameOf(choice.code) };
}

/** Which game a lobby plays (a join's answer does not say). */
async function gameOf(code: string): Promise<string> {
  return (await api.getLobby(code)).gameId;
}

/** A reload: back into the lobby this tab has a seat in (older sessions did not record the game). */
async function resume(session: PlayerSession): Promise<void> {
  try {
    enter(session.gameId ? session : { ...session, gameId: await gameOf(session.code) });
  } catch (error) {
    showToast(`Cannot reach lobby ${session.code}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function enter(session: PlayerSession): void {
  saveSession(session);
  const game = screenFor(session.gameId ?? "connect-four");
  // The address bar becomes the invitation, and a reload comes back here.
  history.replaceState(null, "", `/?code=${session.code}`);
  byId("lobby-code").textContent = session.code;
  byId<HTMLInputElement>("share-link").value = `${location.origin}/?code=${session.code}`;
  byId("my-id").textContent = session.playerId;
  byId("my-name").textContent = session.name;
  byId("game").hidden = false;
  byId("game-tag").textContent = game.title;
  document.title = `Lobby ${session.code} · Ringside`;
  byId("game").dataset.game = game.gameId;
  page = new LobbyPage(session, api, game);
  void page.start();
}

function leave(): void {
  const code = parseCode(new URLSearchParams(location.search).get("code"));
  page?.close();
  if (code) forgetSession(code);
  location.assign("/");
}

async function copyLink(): Promise<void> {
  const input = byId<HTMLInputElement>("share-link");
  try {
    await navigator.clipboard.writeText(input.value);
    showToast("Link copied: send it to a friend.", "info");
  } catch {
    // The clipboard API needs a secure context; selecting lets the player copy by hand.
    input.select();
    showToast("Press Ctrl+C to copy the link.", "info");
  }
}

main();
