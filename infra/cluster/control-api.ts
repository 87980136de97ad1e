import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

/**
 * The launcher's control API: what an orchestrator does for a cluster, on
 * demand, for `npm run chaos` and operators: signal a member (SIGKILL,
 * SIGSTOP, SIGCONT, SIGTERM), start again a member that left (a drained
 * node exits 0 and is not restarted by itself), and stall Postgres for the
 * nodes (a black hole in the TCP proxy the launcher puts between them).
 * It listens on 127.0.0.1 only and wants the admin token: it can kill.
 *
 *   GET  /control                             members and Postgres state
 *   POST /control/members/:name/start         start a member that is not running
 *   POST /control/members/:name/signal        {"signal":"SIGKILL"|"SIGSTOP"|"SIGCONT"|"SIGTERM"}
 *   POST /control/postgres/stall | /unstall   black-hole the nodes' Postgres connections, or heal them
 */

export const CONTROL_SIGNALS = ["SIGKILL", "SIGSTOP", "SIGCONT", "SIGTERM"] as const;
export type ControlSignal = (typeof CONTROL_SIGNALS)[number];

/** starting: launched, not yet listening; restarting: died, the launcher starts it again; left: exited on purpose. */
export type MemberState = "starting" | "running" | "stopped" | "restarting" | "left";

export type MemberView = {
  name: string;
  kind: "node" | "balancer";
  port: number;
  pid: number | null;
  state: MemberState;
  restarts: number;
};

export type PostgresView = { proxied: boolean; stalled: boolean };

export type ClusterControl = {
  members(): MemberView[];
  /** Resolves once the member listens. */
  start(name: string): Promise<MemberView>;
  signal(name: string, signal: ControlSignal): MemberView;
  postgres(): PostgresView;
  setPostgresStalled(stalled: boolean): PostgresView;
};

/** A refusal with its HTTP status and a machine-readable code. */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type ControlServer = { url: string; close(): Promise<void> };

export async function startControlApi(
  control: ClusterControl,
  opts: { token: string; port: number },
): Promise<ControlServer> {
  const server = createServer((req, res) => {
    handle(control, opts.token, req, res).catch((err: unknown) => {
      const e = err instanceof ControlError ? err : new ControlError(500, "internal", messageOf(err));
      send(res, e.status, { error: e.code, message: e.message });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : opts.port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function handle(control: ClusterControl, token: string, req: IncomingMessage, res: ServerResponse) {
  if (!authorized(req.headers.authorization, token)) {
    throw new ControlError(401, "unauthorized", "the control API wants Authorization: Bearer <admin token>");
  }
  const path = new URL(req.url ?? "/", "http://control").pathname;
  const member = /^\/control\/members\/([A-Za-z0-9_.-]{1,64})\/(start|signal)$/.exec(path);
  if (req.method === "GET" && path === "/control") {
    return send(res, 200, { members: control.members(), postgres: control.postgres() });
  }
  if (req.method !== "POST")
    throw new ControlError(path.startsWith("/control") ? 405 : 404, "not_found", "no such route");
  if (member?.[2] === "start") return send(res, 200, await control.start(member[1] as string));
  if (member?.[2] === "signal") {
    const signal = parseSignal(await readJson(req));
    return send(res, 200, control.signal(member[1] as string, signal));
  }
  if (path === "/control/postgres/stall") return send(res, 200, control.setPostgresStalled(true));
  if (path === "/control/postgres/unstall") return send(res, 200, control.setPostgresStalled(false));
  throw new ControlError(404, "not_found", "no such route");
}

function authorized(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith("Bearer ") ? header.slice(7) : "");
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

function parseSignal(body: unknown): ControlSignal {
  const signal = (body as { signal?: unknown } | null)?.signal;
  if (typeof signal === "string" && (CONTROL_SIGNALS as readonly string[]).includes(signal)) {
    return signal as ControlSignal;
  }
  throw new ControlError(400, "bad_signal", `body must be {"signal": one of ${CONTROL_SIGNALS.join(", ")}}`);
}

const MAX_BODY_BYTES = 1024;

async function readJson(req: IncomingMessage): Promise<unknown> {
  let raw = "";
  for await (const chunk of req) {
    raw += chunk;
    if (raw.length > MAX_BODY_BYTES) throw new ControlError(413, "too_large", `body over ${MAX_BODY_BYTES} bytes`);
  }
  try {
    return JSON.parse(raw);
  } catch {
    throw new ControlError(400, "bad_json", "body is not JSON");
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
