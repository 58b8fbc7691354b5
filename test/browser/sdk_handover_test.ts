/**
 * A normal change of sync leader between two tabs leaves the browser
 * console clean: no failed load (a fenced push's 409) and no error, in
 * either tab, whether the leader closes its log or its tab.
 */

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { browserTest } from "./harness.ts";
import {
  demoStatus,
  openDemoOnline,
  startDemoBroker,
  waitForBrokerCount,
} from "./demo_broker.ts";

function record(page: Page, n: number): Promise<void> {
  return page.evaluate(
    // deno-lint-ignore no-explicit-any
    (n) => (globalThis as any).edgelogDemo.record(n),
    n,
  );
}

async function leaderOf(tabs: readonly Page[]): Promise<number> {
  const statuses = await Promise.all(tabs.map(demoStatus));
  assert.equal(statuses.filter((s) => s.leader).length, 1);
  return statuses.findIndex((s) => s.leader);
}

browserTest("browser SDK: a sync leader hand-over leaves no console error", {
  serve: startDemoBroker,
  async run(t, broker, browser) {
    const context = await browser.newContext();
    const errors: string[] = [];
    const tabs: Page[] = [];
    for (let i = 0; i < 3; i++) {
      const tab = await context.newPage();
      tab.setDefaultTimeout(20_000);
      tab.on("response", (response) => {
        if (response.status() >= 400) {
          errors.push(
            `tab ${i}: ${response.status()} ${response.request().method()} ${
              new URL(response.url()).pathname
            }`,
          );
        }
      });
      tab.on("console", (message) => {
        if (message.type() === "error") {
          errors.push(`tab ${i}: ${message.text()}`);
        }
      });
      await openDemoOnline(tab, `${broker.url}/demo/?name=handover`);
      tabs.push(tab);
    }
    let total = 0;
    const busy = async (n: number) => {
      await Promise.all(tabs.map((tab) => record(tab, n)));
      total += n * tabs.length;
    };

    await t.step("the leader closes its log while records flow", async () => {
      await busy(40);
      const leader = await leaderOf(tabs);
      await Promise.all([
        busy(40),
        tabs[leader]!.evaluate(() =>
          // deno-lint-ignore no-explicit-any
          (globalThis as any).edgelogDemo.log.close()
        ),
      ]).catch(() => {});
      tabs.splice(leader, 1);
      await busy(20);
      await waitForBrokerCount(broker, "readings", total);
      assert.deepEqual(errors, []);
    });

    await t.step("the leader's tab closes while records flow", async () => {
      const leader = await leaderOf(tabs);
      const closing = tabs[leader]!;
      tabs.splice(leader, 1);
      await Promise.all([busy(40), closing.close()]);
      await busy(20);
      await waitForBrokerCount(broker, "readings", total);
      assert.deepEqual(errors, []);
    });
  },
});
