import { byId, errorText } from "./dom.js";
import { lastName, parseCode } from "./session-store.js";

/**
 * The first screen: a name, then create a lobby or join one by code (the
 * code is prefilled from an invitation link). Enter picks join when a code
 * is typed, create otherwise.
 */

export type EntryChoice = { action: "create"; name: string } | { action: "join"; name: string; code: string };

export class EntryView {
  private readonly section = byId("entry");
  private readonly name = byId<HTMLInputElement>("name-input");
  private readonly code = byId<HTMLInputElement>("code-input");
  private readonly error = byId("entry-error");
  private readonly buttons = [byId<HTMLButtonElement>("create-btn"), byId<HTMLButtonElement>("join-btn")];

  constructor(private readonly onChoose: (choice: EntryChoice) => Promise<void>) {
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
  }

  show(invitedTo: string | null): void {
    this.section.hidden = false;
    this.name.value ||= lastName();
    if (invitedTo) this.code.value = invitedTo;
    this.section.dataset.invited = invitedTo ? "true" : "false";
    byId("entry-title").textContent = invitedTo ? `Join lobby ${invitedTo}` : "Play Connect Four";
    (this.name.value ? (invitedTo ? byId("join-btn") : this.name) : this.name).focus();
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
      await this.onChoose(action === "join" && code ? { action, name, code } : { action: "create", name });
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
