import type { GameInfo } from "../../shared/client/index.js";
import { byId, el, errorText } from "./dom.js";
import { screenFor } from "./screens.js";
import { lastName, parseCode } from "./session-store.js";

/**
 * The first screen: a name, then create a lobby (of the game picked from
 * the ones the cluster runs, GET /api/games, with that game's options) or
 * join one by code (prefilled from an invitation link). Enter picks join
 * when a code is typed, create otherwise.
 */

export type EntryChoice =
  | { action: "create"; name: string; game: string | undefined; options: Record<string, unknown> | undefined }
  | { action: "join"; name: string; code: string };

export class EntryView {
  private readonly section = byId("entry");
  private readonly name = byId<HTMLInputElement>("name-input");
  private readonly code = byId<HTMLInputElement>("code-input");
  private readonly error = byId("entry-error");
  private readonly buttons = [byId<HTMLButtonElement>("create-btn"), byId<HTMLButtonElement>("join-btn")];
  private readonly game = byId<HTMLSelectElement>("game-select");
  private games: GameInfo[] = [];
  private readOptions: (() => Record<string, unknown>) | undefined;
  private invited = false;

  constructor(
    private readonly onChoose: (choice: EntryChoice) => Promise<void>,
    private readonly listGames: () => Promise<GameInfo[]>,
  ) {
    const form = byId("entry-form");
    form.addEventListener("submit", (event) => event.preventDefault());
    // Two actions share the form, so Enter is decided here rather than by a default button.
    form.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || !(event.target instanceof HTMLInputElement)) return;
      event.preventDefault();
      void this.choose(this.code.value.trim() ? "join" : "create");
    });
    byId("create-btn").addEventListener("click", () => void this.choose("create"));
    byId("join-btn").addEventListener("click", () => void this.choose("join"));
    this.code.addEventListener("input", () => {
      this.code.value = this.code.value.toUpperCase();
    });
    this.game.addEventListener("change", () => this.pickGame());
  }

  show(invitedTo: string | null): void {
    this.section.hidden = false;
    this.name.value ||= lastName();
    if (invitedTo) this.code.value = invitedTo;
    this.section.dataset.invited = invitedTo ? "true" : "false";
    this.invited = invitedTo !== null;
    if (invitedTo) byId("entry-title").textContent = `Join lobby ${invitedTo}`;
    (this.name.value ? (invitedTo ? byId("join-btn") : this.name) : this.name).focus();
    void this.loadGames();
  }

  /** The games the cluster runs; without an answer the select offers the cluster's default game. */
  private async loadGames(): Promise<void> {
    try {
      this.games = await this.listGames();
    } catch {
      this.games = [];
    }
    const options = this.games.map((g) => el("option", { value: g.id }, g.title));
    this.game.replaceChildren(...(options.length > 0 ? options : [el("option", { value: "" }, "Default game")]));
    this.section.dataset.games = String(this.games.length);
    this.pickGame();
  }

  /** Shows the picked game's blurb and options. */
  private pickGame(): void {
    const info = this.games.find((g) => g.id === this.game.value);
    const screen = info ? screenFor(info.id) : undefined;
    if (!this.invited) byId("entry-title").textContent = `Play ${info?.title ?? "a game"}`;
    byId("game-blurb").textContent = screen?.blurb ?? "";
    const optionsRoot = byId("game-options");
    optionsRoot.replaceChildren();
    this.readOptions = screen?.optionsForm?.(optionsRoot);
  }

  hide(): void {
    this.section.hidden = true;
  }

  private async choose(action: "create" | "join"): Promise<void> {
    const name = this.name.value.trim();
    if (!name) return this.fail("Pick a name first.", this.name);
    const code = parseCode(this.code.value);
    if (action === "join" && !code) return this.fail("A lobby code is 6 letters and digits, like K7MQ2X.", this.code);
    this.setBusy(true);
    try {
      const game = this.game.value || undefined;
      await this.onChoose(
        action === "join" && code
          ? { action, name, code }
          : { action: "create", name, game, options: this.readOptions?.() },
      );
      this.error.hidden = true;
    } catch (error) {
      this.fail(entryError(error));
    } finally {
      this.setBusy(false);
    }
  }

  private fail(message: string, field?: HTMLInputElement): void {
    this.error.textContent = message;
    this.error.hidden = false;
    field?.focus();
  }

  private setBusy(busy: boolean): void {
    for (const button of this.buttons) button.disabled = busy;
  }
}

/** The server's own words when it gave some (RingsideHttpError carries the JSON body). */
function entryError(error: unknown): string {
  const { status, body } = error as { status?: unknown; body?: { message?: unknown } };
  const detail = typeof body?.message === "string" ? body.message : errorText(error);
  if (status === 404) return "No lobby with that code. Check it, or create a new one.";
  if (status === 409) return `Cannot join: ${detail}.`;
  return `Something went wrong: ${detail}`;
}
