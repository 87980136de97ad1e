import { el } from "./dom.js";
import type { NodeView } from "./ops-api.js";

/**
 * The nodes table, refreshed every second. Rows are kept per node id and
 * updated in place, so a weight being typed or a button under the pointer
 * is not wiped by the next refresh.
 */

export type NodeActions = {
  drain: (id: string) => Promise<void>;
  setWeight: (id: string, weight: number) => Promise<void>;
};

type Row = {
  tr: HTMLTableRowElement;
  state: HTMLElement;
  lease: HTMLElement;
  lobbies: HTMLElement;
  probe: HTMLElement;
  weight: HTMLInputElement;
  drain: HTMLButtonElement;
};

export class NodesTable {
  private readonly rows = new Map<string, Row>();

  constructor(
    private readonly body: HTMLElement,
    private readonly actions: NodeActions,
  ) {}

  render(nodes: NodeView[], ringMembers: ReadonlySet<string>): void {
    for (const [id, row] of this.rows) {
      if (nodes.some((n) => n.id === id)) continue;
      row.tr.remove();
      this.rows.delete(id);
    }
    for (const node of nodes) {
      const row = this.rows.get(node.id) ?? this.addRow(node);
      update(row, node, ringMembers.has(node.id));
      this.body.append(row.tr); // keeps the server's order (by id)
    }
  }

  private addRow(node: NodeView): Row {
    const weight = el("input", { type: "number", min: 0, max: 100, class: "weight-input", "aria-label": "weight" });
    weight.value = String(node.weight);
    const save = el("button", { type: "button", class: "small" }, "Set");
    const drain = el("button", { type: "button", class: "small danger" }, "Drain");
    const cell = () => el("td");
    const row: Row = {
      tr: el("tr", { "data-node": node.id }),
      state: el("span", { class: "pill state" }),
      lease: cell(),
      lobbies: el("td", { class: "num" }),
      probe: cell(),
      weight,
      drain,
    };
    save.addEventListener("click", () => void this.saveWeight(node.id, weight));
    weight.addEventListener("input", () => {
      weight.dataset.dirty = "true";
    });
    weight.addEventListener("keydown", (event) => {
      if (event.key === "Enter") void this.saveWeight(node.id, weight);
    });
    drain.addEventListener("click", () => this.confirmDrain(node.id));
    row.tr.append(
      el("td", {}, el("strong", {}, node.id), el("div", { class: "muted small" }, node.url)),
      el("td", {}, row.state),
      el("td", {}, el("div", { class: "weight" }, weight, save)),
      row.lease,
      row.lobbies,
      row.probe,
      el("td", { class: "actions" }, drain),
    );
    this.rows.set(node.id, row);
    return row;
  }

  private async saveWeight(id: string, input: HTMLInputElement): Promise<void> {
    const weight = Number(input.value);
    if (!Number.isInteger(weight) || weight < 0 || weight > 100) {
      input.setCustomValidity("0 to 100");
      input.reportValidity();
      return;
    }
    input.setCustomValidity("");
    await this.actions.setWeight(id, weight);
    delete input.dataset.dirty;
  }

  private confirmDrain(id: string): void {
    // Draining moves every lobby off the node and then stops it: worth a second thought.
    if (window.confirm(`Drain ${id}? Its lobbies move to other nodes, then it exits.`)) void this.actions.drain(id);
  }
}

function update(row: Row, node: NodeView, inRing: boolean): void {
  row.tr.dataset.state = node.state;
  row.state.textContent = node.state;
  row.state.dataset.state = node.state;
  row.lease.textContent = node.leaseValid ? "valid" : "expired";
  row.lease.className = node.leaseValid ? "ok" : "bad";
  row.lobbies.textContent = String(node.lobbies);
  row.probe.textContent = node.suspect ? `suspect (${node.probeFailures} refused)` : inRing ? "in ring" : "out of ring";
  row.probe.className = node.suspect ? "bad" : "muted";
  // Not while the operator is editing it.
  if (document.activeElement !== row.weight && !row.weight.dataset.dirty) row.weight.value = String(node.weight);
  row.drain.disabled = node.state !== "active";
}
