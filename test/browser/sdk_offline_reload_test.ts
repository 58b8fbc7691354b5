/**
 * The demo never waits for its service worker's registration, which
 * offline may take about a minute to settle: reloaded offline ten times in
 * a row, it shows the stored readings each time within 3 s. Whether
 * Chromium's own `register()` stalls depends on its network stack's timing,
 * so after the first load the test makes every `register()` call stall,
 * as it does at worst.
 */

import assert from "node:assert/strict";
import { browserTest } from "./harness.ts";
import { openDemoOnline, startDemoBroker } from "./demo_broker.ts";

const RELOADS = 10;
const SHOWN_WITHIN_MS = 3_000;

browserTest(
  "browser SDK: the demo shows its readings at once after offline reloads",
  {
    serve: startDemoBroker,
    async run(t, broker, browser) {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      await openDemoOnline(page, `${broker.url}/demo/?name=reloads`);
      await page.evaluate(() =>
        // deno-lint-ignore no-explicit-any
        (globalThis as any).edgelogDemo.record(5)
      );
      await context.addInitScript(() => {
        navigator.serviceWorker.register = () => new Promise(() => {});
      });
      await context.setOffline(true);
      for (let i = 1; i <= RELOADS; i++) {
        await t.step(`offline reload ${i}`, async () => {
          await page.reload({ waitUntil: "commit" });
          await page.waitForFunction(
            () =>
              document.querySelectorAll("#readings li").length === 5 &&
              document.getElementById("local")?.textContent === "5",
            undefined,
            { timeout: SHOWN_WITHIN_MS },
          );
          assert.deepEqual(
            await page.evaluate(() => [
              navigator.onLine,
              Object.hasOwn(navigator.serviceWorker, "register"),
            ]),
            [false, true],
            "the page is offline, and its register() stalls",
          );
        });
      }
    },
  },
);
