import type { ConnectionStatus } from "../../shared/client/index.js";

/**
 * The connection pill in the top bar: connecting, live (and which node
 * serves this lobby: it changes after a failover or a drain), reconnecting
 * with the attempt number, or closed with the reason.
 */
export function renderConnection(
  pill: HTMLElement,
  status: ConnectionStatus | "idle",
  node?: string,
  detail?: string,
): void {
  pill.dataset.status = status;
  pill.title = detail ?? "";
  pill.textContent = {
    idle: "Not connected",
    connecting: "Connecting…",
    open: node ? `Live · served by ${node}` : "Live",
    reconnecting: detail ? `Reconnecting… (${detail})` : "Reconnecting…",
    closed: "Disconnected",
  }[status];
}
