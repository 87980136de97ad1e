import type { DirectMessage } from "../../shared/client/index.js";
import { clockTime, el } from "./dom.js";

/**
 * Direct messages: to any player id, in this lobby or another one, on any
 * node (they are not part of the lobby log, so they are not kept across
 * reloads). Sent ones are listed once acked.
 */
export class DirectMessagesView {
  constructor(
    private readonly log: HTMLElement,
    form: HTMLFormElement,
    private readonly to: HTMLInputElement,
    private readonly text: HTMLInputElement,
    /** Resolves false when the message was not delivered (the reason is shown elsewhere). */
    onSend: (to: string, text: string) => Promise<boolean>,
  ) {
    // A typed id is no longer the player picked from the list.
    to.addEventListener("input", () => {
      delete to.dataset.name;
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const recipient = to.value.trim();
      const body = text.value.trim();
      if (!recipient || !body) return;
      void onSend(recipient, body).then((sent) => {
        if (!sent) return;
        this.add("out", `To ${to.dataset.name ?? recipient}`, body, new Date().toISOString());
        text.value = "";
      });
    });
  }

  /** Fills the recipient (from the players list) and moves the cursor to the text. */
  writeTo(playerId: string, name: string): void {
    this.to.value = playerId;
    this.to.dataset.name = name;
    this.text.focus();
  }

  received(dm: DirectMessage): void {
    this.add("in", `From ${dm.from.name} (lobby ${dm.from.lobby})`, dm.text, dm.at);
  }

  private add(direction: "in" | "out", who: string, text: string, at: string): void {
    this.log.querySelector(".empty")?.remove();
    this.log.append(
      el(
        "li",
        { class: `dm ${direction}` },
        el("span", { class: "meta" }, `${who} · ${clockTime(at)}`),
        el("span", { class: "text" }, text),
      ),
    );
    this.log.scrollTop = this.log.scrollHeight;
  }
}
