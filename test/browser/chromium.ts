/**
 * The one way tests and benchmarks start Chromium: the system's
 * /usr/bin/chromium through playwright-core, with the flags that keep it
 * quiet and offline. Tests skip themselves with {@linkcode CHROMIUM_MISSING}
 * where it is not installed.
 *
 * @module
 */

import { type Browser, chromium } from "playwright-core";

/** Where the Debian `chromium` package installs the browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Flags for a headless run in a container without network chatter. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Why a browser test is skipped when Chromium is absent. */
export const CHROMIUM_MISSING =
  `Chromium is not installed at ${CHROMIUM_PATH}: apt-get install -y chromium`;

/** Whether {@linkcode CHROMIUM_PATH} exists. */
export function chromiumAvailable(): boolean {
  try {
    return Deno.statSync(CHROMIUM_PATH).isFile;
  } catch {
    return false;
  }
}

/**
 * Launches headless Chromium; the caller closes it in a `finally`.
 * `timeoutMs` bounds the launch (default 30 s).
 */
export function launchChromium(
  options: { timeoutMs?: number } = {},
): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS],
    headless: true,
    timeout: options.timeoutMs ?? 30_000,
  });
}
