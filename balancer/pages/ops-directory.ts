import { el } from "./dom.js";

/**
 * The live public lobby directory: GET /api/lobbies as server-sent events
 * (EventSource asks with Accept: text/event-stream). A `snapshot` replaces
 * the list, each `lobby` event updates one row. EventSource reconnects by
 * itself (through the balancer, to any node) and a new snapshot follows, so
 * nothing missed while away stays wrong.
 */

type DirectoryEntry = { code: string; status: string; host: string; players: number; online: number };

export class DirectoryView {
  private lobbies = new Map<string, DirectoryEntry>();

  constructor(
    private readonly body: HTMLElement,
    private readonly status: HTMLElement,
  ) {}

  start(): void {
    const source = new EventSource("/api/lobbies");
    source.addEventListener("snapshot", (event) => this.onSnapshot(event));
    source.addEventListener("lobby", (event) => this.onLobby(event));
    source.addEventListener("open", () => this.setStatus("live"));
    source.addEventListener("error", () => this.setStatus("reconnecting"));
  }

  private onSnapshot(event: MessageEvent<string>): void {
    const { lobbies } = JSON.parse(event.data) as { lobbies: DirectoryEntry[] };
    this.lobbies.clear();
    for (const lobby of lobbies) this.lobbies.set(lobby.code, lobby);
    this.render();
  }

  private onLobby(event: MessageEvent<string>): void {
    const lobby = JSON.parse(event.data) as DirectoryEntry;
    const known = this.lobbies.get(lobby.code);
    if (lobby.status === "closed") this.lobbies.delete(lobby.code);
    else if (known) this.lobbies.set(lobby.code, { ...known, ...lobby });
    // Newest first, as in the snapshot.
    else this.lobbies = new Map([[lobby.code, lobby], ...this.lobbies]);
    this.render();
  }

  private setStatus(state: "live" | "reconnecting"): void {
    this.status.dataset.status = state === "live" ? "open" : "reconnecting";
    this.status.textContent = state === "live" ? "live" : "reconnecting…";
  }

  private render(): void {
    const rows = [...this.lobbies.values()].map((lobby) =>
      el(
        "tr",
        { "data-lobby": lobby.code },
        el("td", {}, el("a", { class: "code", href: `/?code=${lobby.code}`, target: "_blank" }, lobby.code)),
        el("td", {}, lobby.host),
        el("td", {}, el("span", { class: "pill state", "data-state": lobby.status }, lobby.status)),
        el("td", { class: "num" }, String(lobby.players)),
        el("td", { class: "num" }, String(lobby.online)),
      ),
    );
    if (rows.length === 0) rows.push(el("tr", {}, el("td", { colspan: 5, class: "empty" }, "No public lobbies yet.")));
    this.body.replaceChildren(...rows);
  }
}
