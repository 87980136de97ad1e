import type { IncomingMessage } from "node:http";
import type { Logger } from "../shared/log.js";
import type { BalancerMetrics } from "./metrics.js";
import { requestHeadBytes } from "./proxy-headers.js";
import type { RefusalHold } from "./refusal-hold.js";
import type { RoutingTable } from "./routing-table.js";

/**
 * What both forwarders (HTTP requests and WebSocket upgrades) need from the
 * balancer, and the limits they share: the default deadline for a node's
 * answer and whether a request's head fits a node's parser. Apart from
 * http-forwarder.ts so that the WebSocket forwarder does not depend on it.
 */

export const UPSTREAM_TIMEOUT_MS = 10_000;
/** Room for what the HTTP client adds to the head (`Connection: keep-alive`). */
const HEAD_MARGIN_BYTES = 32;

export type ForwarderDeps = {
  table: RoutingTable;
  logger: Logger;
  metrics: BalancerMetrics;
  trustProxy: boolean;
  /** A proxied request to this node was reset: ask the health probe to look now (no verdict). */
  checkNode: (nodeId: string) => void;
  /** A connection to this node was refused: evidence for the health probe (see HealthProbe.refused). */
  nodeRefused: (nodeId: string, err: unknown) => void;
  /** A 421 named a node not read from Postgres yet. */
  onUnknownNode: () => void;
  /** Where a request refused by a node waits for the verdict on that node (see refusal-hold.ts). */
  hold: RefusalHold;
  upstreamTimeoutMs?: number;
  /** Pooled connections per node. */
  nodeSockets?: number;
  /** What a node's HTTP parser accepts (Node's --max-http-header-size); larger requests get 431 here. */
  nodeMaxHeaderBytes?: number;
  /** Local addresses WebSocket tunnels connect from, in turn (BALANCER_SOURCE_ADDRESSES); unset: the kernel picks. */
  sourceAddresses?: string[];
};

/** Whether a request's head, as it will be sent, fits what a node's parser accepts. */
export function fitsNode(req: IncomingMessage, path: string, deps: ForwarderDeps): boolean {
  const limit = deps.nodeMaxHeaderBytes ?? 16_384;
  return requestHeadBytes(path, req.headers) + HEAD_MARGIN_BYTES < limit;
}
