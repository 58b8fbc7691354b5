/**
 * The demo page, served by a real broker with its service worker, goes
 * offline, records readings, reloads while offline (the worker serves the
 * shell, IndexedDB keeps the records), and syncs exactly those records, in
 * order, once the network is back. Screenshots before and after the sync go
 * to test/artifacts/.
 */

import assert from "node:assert/strict";
import { browserTest } from "./harness.ts";
import {
  brokerRecords,
  demoStatus,
  isPng,
  openDemoOnline,
  startDemoBroker,
  values,
  waitForBrokerCount,
} from "./demo_broker.ts";

const ARTIFACTS = new URL("../artifacts/", import.meta.url).pathname;
const N = 30;

browserTest(
  "browser SDK: offline, reload while offline, then exactly N records in order",
  {
    serve: startDemoBroker,
    async run(_t, broker, browser) {
      const context = await browser.newContext({
        viewport: { width: 480, height: 640 },
      });
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      const url = `${broker.url}/demo/?name=offline`;
      await openDemoOnline(page, url);

      await context.setOffline(true);
      for (let i = 0; i < 3; i++) {
        await page.evaluate(
          // deno-lint-ignore no-explicit-any
          (n) => (globalThis as any).edgelogDemo.record(n),
          N / 3,
        );
      }
      await page.reload();
      await page.waitForFunction(() => "edgelogDemo" in globalThis);
      const offline = await demoStatus(page);
      assert.equal(offline.localRecords, N);
      assert.equal(offline.syncedRecords, 0);
      await page.waitForFunction(() =>
        document.getElementById("lag")?.textContent === "30"
      );
      const shown = await page.$$eval("#readings li", (items) => items.length);
      assert.equal(shown, 5, "the reloaded page lists the stored readings");
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      const before = await page.screenshot({
        path: `${ARTIFACTS}demo-before-sync.png`,
      });
      assert.equal(
        (await Deno.readFile(`${ARTIFACTS}demo-before-sync.png`)).length,
        before.length,
      );

      const local = await page.evaluate(() =>
        // deno-lint-ignore no-explicit-any
        (globalThis as any).edgelogDemo.log.read("readings", 0)
      ) as { records: { value: unknown }[] };
      assert.equal(local.records.length, N);

      await context.setOffline(false);
      await waitForBrokerCount(broker, "readings", N);
      await page.waitForFunction(() =>
        document.getElementById("synced")?.textContent === "30" &&
        document.getElementById("lag")?.textContent === "0"
      );
      await page.screenshot({ path: `${ARTIFACTS}demo-after-sync.png` });

      const central = await brokerRecords(broker, "readings");
      assert.equal(central.length, N);
      assert.deepEqual(values(central), local.records.map((r) => r.value));
      for (const name of ["demo-before-sync.png", "demo-after-sync.png"]) {
        assert.ok(
          isPng(await Deno.readFile(`${ARTIFACTS}${name}`)),
          `${name} is a PNG`,
        );
      }
    },
  },
);
