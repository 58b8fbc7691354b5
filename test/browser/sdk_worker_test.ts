/**
 * The service worker syncs records that a page produced offline and could
 * not sync before it was closed: the page's sync lock passes to the worker
 * (woken by Background Sync), which pushes them once the network is back.
 */

import assert from "node:assert/strict";
import { browserTest } from "./harness.ts";
import {
  brokerCount,
  brokerRecords,
  openDemoOnline,
  startDemoBroker,
  values,
  waitForBrokerCount,
} from "./demo_broker.ts";

const N = 25;

browserTest("browser SDK: the service worker syncs a closed page's records", {
  serve: startDemoBroker,
  async run(_t, broker, browser) {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await openDemoOnline(page, `${broker.url}/demo/?name=worker`);

    await context.setOffline(true);
    const local = await page.evaluate(async (n) => {
      // deno-lint-ignore no-explicit-any
      const demo = (globalThis as any).edgelogDemo;
      await demo.record(n);
      return (await demo.log.read("readings", 0)).records.map((
        r: { value: unknown },
      ) => r.value);
    }, N) as unknown[];
    assert.equal(local.length, N);
    await page.close();
    assert.equal(brokerCount(broker, "readings"), 0);

    await context.setOffline(false);
    await waitForBrokerCount(broker, "readings", N, 40_000);
    const central = await brokerRecords(broker, "readings");
    assert.deepEqual(values(central), local);
  },
});
