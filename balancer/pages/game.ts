import { RingsideApi } from "../../shared/client/index.js";
import { byId } from "./dom.js";
import type { EntryChoice } from "./entry-view.js";
import { EntryView } from "./entry-view.js";
import { LobbyPage } from "./lobby-page.js";
import { initBanner, showToast } from "./notices.js";
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
 * this tab already has a seat there (a reload, or the link it shared).
 */

const api = new RingsideApi(location.origin);
let page: LobbyPage | undefined;

function main(): void {
  initBanner();
  const invitedTo = parseCode(new URLSearchParams(location.search).get("code"));
  const resumed = invitedTo ? loadSession(invitedTo) : undefined;
  const entry = new EntryView(async (choice) => {
    const session = await takeSeat(choice);
    entry.hide();
    enter(session);
  });
  if (resumed) enter(resumed);
  else entry.show(invitedTo);
  byId("leave-btn").addEventListener("click", leave);
  byId("copy-link").addEventListener("click", () => void copyLink());
}

async function takeSeat(choice: EntryChoice): Promise<PlayerSession> {
  rememberName(choice.name);
  if (choice.action === "create") {
    const created = await api.createLobby(choice.name);
    return { code: created.code, playerId: created.playerId, token: created.token, name: choice.name };
  }
  const joined = await api.joinLobby(choice.code, choice.name);
  return { code: choice.code, playerId: joined.playerId, token: joined.token, name: choice.name };
}

function enter(session: PlayerSession): void {
  saveSession(session);
  // The address bar becomes the invitation, and a reload comes back here.
  history.replaceState(null, "", `/?code=${session.code}`);
  byId("lobby-code").textContent = session.code;
  byId<HTMLInputElement>("share-link").value = `${location.origin}/?code=${session.code}`;
  byId("my-id").textContent = session.playerId;
  byId("my-name").textContent = session.name;
  byId("game").hidden = false;
  document.title = `Lobby ${session.code} · Ringside`;
  page = new LobbyPage(session, api);
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
