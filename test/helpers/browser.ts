import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { describe } from "vitest";

/**
 * Debian's chromium driven by playwright-core (its own browser download is
 * not available here). Page tests skip, saying why, when it is missing.
 */
export const CHROMIUM = "/usr/bin/chromium";
export const chromiumInstalled = existsSync(CHROMIUM);

/** describe, or a skipped describe with the reason in the suite's name. */
export function browserSuite(title: string) {
  return {
    suite: describe.skipIf(!chromiumInstalled),
    title: chromiumInstalled ? title : `${title} (skipped: chromium not installed (apt-get install chromium))`,
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // Headless as root, and nothing that reaches for the network: this machine has none.
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
