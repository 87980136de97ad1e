import type { ChatLine, PlayerView } from "../../shared/wire.js";
import { el } from "./dom.js";

/**
 * The lobby chat: the log (from the lobby state, so it survives reloads and
 * failovers) and the input. The log re-renders only when a line is added, and
 * stays scrolled to the bottom unless the reader scrolled up.
 */
export class ChatView {
  private shownSeq = -1;

  constructor(
    private readonly log: HTMLElement,
    form: HTMLFormElement,
    private readonly input: HTMLInputElement,
    /** Resolves false when the message was not sent (the reason is shown elsewhere). */
    onSend: (text: string) => Promise<boolean>,
  ) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      void onSend(text).then((sent) => {
        // Not sent: give the text back so it is not lost.
        if (!sent && !input.value) input.value = text;
      });
    });
  }

  render(chat: ChatLine[], players: PlayerView[], me: string | undefined): void {
    const newest = chat.at(-1)?.seq ?? 0;
    if (newest === this.shownSeq) return;
    this.shownSeq = newest;
    const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    const byId = new Map(players.map((p) => [p.id, p]));
    this.log.replaceChildren(...chat.map((line) => chatLine(line, byId.get(line.playerId), me)));
    if (chat.length === 0) this.log.append(el("li", { class: "empty" }, "No messages yet. Say hi!"));
    if (atBottom) this.log.scrollTop = this.log.scrollHeight;
  }

  focus(): void {
    this.input.focus();
  }
}

function chatLine(line: ChatLine, author: PlayerView | undefined, me: string | undefined): HTMLLIElement {
  const seat = author?.seat ? `p${author.seat}` : "spectator";
  return el(
    "li",
    { class: line.playerId === me ? "mine" : undefined, "data-seq": line.seq },
    el("span", { class: `author ${seat}` }, author?.name ?? "someone"),
    el("span", { class: "text" }, line.text),
  );
}
