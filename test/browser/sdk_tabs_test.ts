/**
 * Two tabs of one browser log produce at the same time while one of them
 * syncs: every record gets its own local offset (appends go through the
 * write lock), and the broker ends with each record exactly once, in the
 * local log's order. When the syncing tab closes, the other takes over.
 */

import assert from "node:assert/strict";
import { browserTest } from "./harness.ts";
import {
  brokerRecords,
  demoStatus,
  openDemo,
  startDemoBroker,
  values,
  waitForBrokerCount,
} from "./demo_broker.ts";

const CALLS = 20;
const PER_CALL = 5;

browserTest(
  "browser SDK: two tabs produce and sync at once, no duplicate, no loss",
  {
    serve: startDemoBroker,
    async run(_t, broker, browser) {
      const context = await browser.newContext();
      const url = `${broker.url}/demo/?name=tabs`;
      const tabs = [await context.newPage(), await context.newPage()];
      for (const tab of tabs) {
        tab.setDefaultTimeout(20_000);
        await openDemo(tab, url);
      }
      await Promise.all(
        tabs.map((tab, t) =>
          tab.evaluate(async ({ t, calls, perCall }) => {
            // deno-lint-ignore no-explicit-any
            const { log } = (globalThis as any).edgelogDemo;
            for (let c = 0; c < calls; c++) {
              const records = Array.from({ length: perCall }, (_, i) => ({
                key: `tab-${t}`,
                value: { tab: t, seq: c * perCall + i },
              }));
              await log.produce("readings", records);
            }
          }, { t, calls: CALLS, perCall: PER_CALL })
        ),
      );
      const total = 2 * CALLS * PER_CALL;
      const local = await tabs[1]!.evaluate(async () => {
        // deno-lint-ignore no-explicit-any
        const { log } = (globalThis as any).edgelogDemo;
        return (await log.read("readings", 0)).records.map((
          r: { offset: number; value: unknown },
        ) => ({ offset: r.offset, value: r.value }));
      }) as { offset: number; value: { tab: number; seq: number } }[];
      assert.deepEqual(local.map((r) => r.offset), [...Array(total).keys()]);
      for (const tab of [0, 1]) {
        assert.deepEqual(
          local.filter((r) => r.value.tab === tab).map((r) => r.value.seq),
          [...Array(CALLS * PER_CALL).keys()],
          `tab ${tab}'s records, each once and in order`,
        );
      }

      await waitForBrokerCount(broker, "readings", total);
      const central = await brokerRecords(broker, "readings");
      assert.equal(central.length, total);
      assert.deepEqual(values(central), local.map((r) => r.value));

      const statuses = await Promise.all(tabs.map(demoStatus));
      assert.equal(
        statuses.filter((s) => s.leader).length,
        1,
        "exactly one tab syncs",
      );
      for (const tab of tabs) {
        await tab.waitForFunction(() =>
          document.getElementById("synced")?.textContent === "200"
        );
      }

      const leader = statuses.findIndex((s) => s.leader);
      await tabs[leader]!.close();
      const other = tabs[1 - leader]!;
      await other.waitForFunction(() =>
        document.getElementById("role")?.textContent ===
          "syncing from this tab"
      );
      await other.evaluate(() =>
        // deno-lint-ignore no-explicit-any
        (globalThis as any).edgelogDemo.record(10)
      );
      await waitForBrokerCount(broker, "readings", total + 10);
      assert.equal(
        (await brokerRecords(broker, "readings")).length,
        total + 10,
      );
    },
  },
);
