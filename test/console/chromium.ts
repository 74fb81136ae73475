import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium (scripts/ensure-chromium.sh installs it); CASTFLOW_CHROMIUM overrides. */
export const CHROMIUM_PATH = process.env.CASTFLOW_CHROMIUM ?? "/usr/bin/chromium";

/** Headless Chromium driven by playwright-core (which ships no browser of its own). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(
      `No Chromium at ${CHROMIUM_PATH}: run bash scripts/ensure-chromium.sh (npm test's pretest does)`,
    );
  return await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
