import { byId, errorText } from "./dom.js";
import { initBanner, showToast } from "./notices.js";
import { AdminApi, type ClusterStats, clusterStats, type RingView, UnauthorizedError } from "./ops-api.js";
import { DirectoryView } from "./ops-directory.js";
import { renderHistory } from "./ops-history.js";
import { NodesTable } from "./ops-nodes.js";

/**
 * The ops dashboard (GET /ops): every second, the ring, the nodes, cluster
 * stats and recent history from the admin API; node actions and
 * announcements; and the live lobby directory. The admin token stays in
 * localStorage so the dashboard survives reloads.
 */

const REFRESH_MS = 1000;
const TOKEN_KEY = "ringside.adminToken";

let api: AdminApi | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;
let refreshing = false;
let shownSvg = "";
const nodes = new NodesTable(byId("nodes-body"), {
  drain: (id) => perform(`Drain of ${id} requested.`, (admin) => admin.drain(id)),
  setWeight: (id, weight) => perform(`Weight of ${id} set to ${weight}.`, (admin) => admin.setWeight(id, weight)),
});

function main(): void {
  initBanner();
  const input = byId<HTMLInputElement>("token-input");
  input.value = localStorage.getItem(TOKEN_KEY) ?? "";
  byId("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    useToken(input.value.trim());
  });
  byId("announce-form").addEventListener("submit", (event) => {
    event.preventDefault();
    void announce();
  });
  byId("rebalance").addEventListener("click", () => {
    void perform("Rebalance requested: lobbies move to their ring owners one by one.", (admin) => admin.rebalance());
  });
  new DirectoryView(byId("directory-body"), byId("directory-status")).start();
  useToken(input.value.trim());
}

function useToken(token: string): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
  api = token ? new AdminApi(token) : undefined;
  setAuth(token ? "checking" : "missing");
  // Refresh now; a refresh already under way schedules the next one itself.
  clearTimeout(timer);
  if (!refreshing) void refreshLoop();
}

/** One refresh, then the next a second after it ends, so they never overlap. */
async function refreshLoop(): Promise<void> {
  refreshing = true;
  const admin = api;
  const [stats] = await Promise.allSettled([clusterStats(), admin ? refreshAdmin(admin) : Promise.resolve()]);
  if (stats.status === "fulfilled") renderStats(stats.value);
  refreshing = false;
  timer = setTimeout(() => void refreshLoop(), REFRESH_MS);
}

async function refreshAdmin(admin: AdminApi): Promise<void> {
  try {
    const [ring, svg, history] = await Promise.all([admin.ring(), admin.ringSvg(), admin.history()]);
    if (admin !== api) return; // the token changed meanwhile
    setAuth("ok");
    renderRing(ring, svg);
    renderHistory(byId("history"), history);
  } catch (error) {
    if (admin !== api) return;
    if (error instanceof UnauthorizedError) {
      api = undefined; // stop polling with a token the balancer refuses
      setAuth("refused");
    } else setAuth("error", errorText(error));
  }
}

function renderRing(ring: RingView, svg: string): void {
  // Trusted markup: the balancer renders it and escapes every node id. Replaced only when it changed.
  if (svg !== shownSvg) {
    byId("ring").innerHTML = svg;
    shownSvg = svg;
  }
  nodes.render(ring.nodes, new Set(ring.members.map((m) => m.id)));
  byId("stat-exceptions").textContent = String(ring.exceptions.length);
  const label = byId("balancer-id");
  label.textContent = `as seen by balancer ${ring.balancer}`;
  label.title = `ring fingerprint ${ring.fingerprint}`;
}

function renderStats(stats: ClusterStats): void {
  byId("stat-nodes").textContent = String(stats.nodes);
  byId("stat-lobbies").textContent = String(stats.lobbies);
  byId("stat-players").textContent = String(stats.players);
}

type AuthState = "missing" | "checking" | "ok" | "refused" | "error";

const AUTH_TEXT: Record<AuthState, string> = {
  missing: "Enter the admin token (RINGSIDE_ADMIN_TOKEN; npm start prints it) to see the cluster.",
  checking: "Checking the token…",
  ok: "",
  refused: "The balancer refused this admin token (401 Unauthorized). Check RINGSIDE_ADMIN_TOKEN and try again.",
  error: "The admin API failed",
};

function setAuth(state: AuthState, detail?: string): void {
  document.body.dataset.auth = state;
  const message = byId("auth-message");
  message.dataset.state = state;
  message.textContent = detail ? `${AUTH_TEXT[state]}: ${detail}` : AUTH_TEXT[state];
  message.hidden = state === "ok";
  const pill = byId("admin-status");
  pill.dataset.status = state === "ok" ? "open" : state === "checking" ? "connecting" : "closed";
  pill.textContent = {
    missing: "No token",
    checking: "Checking…",
    ok: "Live",
    refused: "Unauthorized",
    error: "Error",
  }[state];
}

/** Runs an admin action and reports how it went; the next refresh shows its effect. */
async function perform(success: string, action: (admin: AdminApi) => Promise<void>): Promise<void> {
  if (!api) return showToast("Enter a valid admin token first.");
  try {
    await action(api);
    showToast(success, "info");
  } catch (error) {
    if (error instanceof UnauthorizedError) setAuth("refused");
    showToast(errorText(error));
  }
}

async function announce(): Promise<void> {
  const input = byId<HTMLInputElement>("announce-input");
  const text = input.value.trim();
  if (!text) return;
  await perform("Announcement sent to every connected player.", async (admin) => {
    await admin.announce(text);
    input.value = "";
  });
}

main();
