import { byId } from "./dom.js";

/**
 * Short-lived feedback shared by both pages: a toast for the result of an
 * action (errors mostly), and a banner for cluster-wide announcements, which
 * stays until dismissed because it may matter to the player.
 */

const TOAST_MS = 3500;
let toastTimer: ReturnType<typeof setTimeout> | undefined;

export function showToast(text: string, tone: "error" | "info" = "error"): void {
  const toast = byId("toast");
  toast.textContent = text;
  toast.dataset.tone = tone;
  toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    toast.hidden = true;
  }, TOAST_MS);
}

export function showBanner(text: string, at?: string): void {
  const banner = byId("banner");
  byId("banner-text").textContent = text;
  if (at) banner.dataset.at = at;
  banner.hidden = false;
}

/** Wires the banner's close button (once per page). */
export function initBanner(): void {
  byId("banner-close").addEventListener("click", () => {
    byId("banner").hidden = true;
  });
}
