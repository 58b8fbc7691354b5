/**
 * The whole browser is killed (SIGKILL to its process group) while the demo
 * page makes produce calls with idempotency keys; relaunched on the same
 * profile, the page retries every call that had not returned, with the
 * same key. Every record is then in the local log exactly once, and reaches
 * the broker exactly once: a call that was durable before the kill answers
 * its first positions instead of appending again.
 */

import assert from "node:assert/strict";
import { type Browser, chromium, type Page } from "playwright-core";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./chromium.ts";
import { browserTest } from "./harness.ts";
import {
  brokerRecords,
  openDemo,
  startDemoBroker,
  values,
  waitForBrokerCount,
} from "./demo_broker.ts";

const CALLS = 120;
const PER_CALL = 4;
const WORKERS = 3;
/** Calls that returned before the kill. */
const KILL_AFTER = 30;

/** Chromium on `profile`, in its own process group so all of it can be killed. */
async function launchOnProfile(
  profile: string,
): Promise<{ browser: Browser; kill(): Promise<void> }> {
  const child = new Deno.Command("setsid", {
    args: [
      CHROMIUM_PATH,
      ...CHROMIUM_ARGS,
      "--headless=new",
      "--remote-debugging-port=0",
      `--user-data-dir=${profile}`,
      "about:blank",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  let endpoint: string | undefined;
  while (endpoint === undefined) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`Chromium exited before listening:\n${seen}`);
    seen += value;
    endpoint = /DevTools listening on (ws:\S+)/.exec(seen)?.[1];
  }
  (async () => {
    while (!(await lines.read()).done);
  })();
  const browser = await chromium.connectOverCDP(endpoint, { timeout: 30_000 });
  return {
    browser,
    async kill() {
      Deno.kill(-child.pid, "SIGKILL");
      await child.status;
    },
  };
}

/** Runs `calls` in `page` (WORKERS at a time), each a keyed produce. */
function produceCalls(page: Page, calls: readonly number[]): Promise<void> {
  return page.evaluate(async ({ calls, perCall, workers }) => {
    // deno-lint-ignore no-explicit-any
    const { log } = (globalThis as any).edgelogDemo;
    const queue = [...calls];
    await Promise.all(
      Array.from({ length: workers }, async () => {
        for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
          const records = Array.from({ length: perCall }, (_, n) => ({
            key: `call-${c}`,
            value: { call: c, n },
          }));
          await log.produce("readings", records, {
            idempotencyKey: `call-${c}`,
          });
          console.log(`returned ${c}`);
        }
      }),
    );
  }, { calls, perCall: PER_CALL, workers: WORKERS });
}

async function localValues(page: Page): Promise<unknown[]> {
  return await page.evaluate(async () => {
    // deno-lint-ignore no-explicit-any
    const { log } = (globalThis as any).edgelogDemo;
    const out: unknown[] = [];
    let offset = 0;
    for (;;) {
      const page = await log.read("readings", 0, { offset });
      out.push(...page.records.map((r: { value: unknown }) => r.value));
      if (page.nextOffset >= page.highWatermark) return out;
      offset = page.nextOffset;
    }
  });
}

const expected = (values: unknown[]) =>
  [...values].map((v) => JSON.stringify(v)).sort();

browserTest(
  "browser SDK: browser killed mid-produce, keyed retries, each record once",
  {
    serve: startDemoBroker,
    async run(_t, broker) {
      const profile = await Deno.makeTempDir({ prefix: "edgelog-profile-" });
      const url = `${broker.url}/demo/?name=crash`;
      try {
        const returned = new Set<number>();
        const first = await launchOnProfile(profile);
        try {
          const page = await first.browser.contexts()[0]!.newPage();
          page.setDefaultTimeout(30_000);
          await openDemo(page, url);
          let enough: () => void = () => {};
          const killPoint = new Promise<void>((resolve) => enough = resolve);
          page.on("console", (message) => {
            const call = /^returned (\d+)$/.exec(message.text())?.[1];
            if (call === undefined) return;
            returned.add(Number(call));
            if (returned.size >= KILL_AFTER) enough();
          });
          const calls = produceCalls(page, [...Array(CALLS).keys()]);
          calls.catch(() => {});
          await killPoint;
        } finally {
          await first.kill();
        }
        assert.ok(returned.size < CALLS, "killed before every call returned");

        const second = await launchOnProfile(profile);
        try {
          const page = await second.browser.contexts()[0]!.newPage();
          page.setDefaultTimeout(30_000);
          await openDemo(page, url);
          const retries = [...Array(CALLS).keys()].filter((c) =>
            !returned.has(c)
          );
          const durable = new Set(
            (await localValues(page)).map((v) => (v as { call: number }).call),
          );
          console.log(
            `${returned.size} calls returned before the kill; ${
              retries.filter((c) => durable.has(c)).length
            } more were durable without returning`,
          );
          await produceCalls(page, retries);
          const want = expected(
            [...Array(CALLS).keys()].flatMap((call) =>
              Array.from({ length: PER_CALL }, (_, n) => ({ call, n }))
            ),
          );
          assert.deepEqual(expected(await localValues(page)), want);
          await waitForBrokerCount(
            broker,
            "readings",
            CALLS * PER_CALL,
            30_000,
          );
          const central = values(await brokerRecords(broker, "readings"));
          assert.deepEqual(expected(central), want);
        } finally {
          await second.kill();
        }
      } finally {
        await Deno.remove(profile, { recursive: true });
      }
    },
  },
);
