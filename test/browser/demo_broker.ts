/**
 * The Deno side of the SDK's browser tests: a real broker (startBroker on
 * port 0 over a temporary directory) serving the demo at /demo/, and
 * helpers that wait for its records by events, not by sleeping.
 *
 * @module
 */

import type { Page } from "playwright-core";
import { type Broker, startBroker } from "../../edge/broker.ts";
import type { LogRecord } from "../../runtime/log/types.ts";

/** A broker over a temporary directory; `close` removes the directory. */
export async function startDemoBroker(): Promise<Broker> {
  const dataDir = await Deno.makeTempDir({ prefix: "edgelog-demo-broker-" });
  const broker = await startBroker({ port: 0, dataDir, fsync: "never" });
  return {
    ...broker,
    async close() {
      await broker.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

/** Every record of every partition of `topic`, partition by partition. */
export async function brokerRecords(
  broker: Broker,
  topic: string,
): Promise<LogRecord[]> {
  if (!broker.log.hasTopic(topic)) return [];
  const out: LogRecord[] = [];
  for (const info of broker.log.partitions(topic)) {
    const partition = broker.log.partition(topic, info.partition);
    let offset = partition.logStartOffset;
    while (offset < partition.highWatermark) {
      const page = await partition.read(offset);
      out.push(...page.records);
      offset = page.nextOffset;
    }
  }
  return out;
}

/** Records the broker holds in `topic`. */
export function brokerCount(broker: Broker, topic: string): number {
  if (!broker.log.hasTopic(topic)) return 0;
  return broker.log.partitions(topic).reduce((n, p) => n + p.highWatermark, 0);
}

/**
 * Resolves once the broker holds at least `count` records in `topic`, woken
 * by its appends; rejects after `timeoutMs`.
 */
export function waitForBrokerCount(
  broker: Broker,
  topic: string,
  count: number,
  timeoutMs = 20_000,
): Promise<void> {
  if (brokerCount(broker, topic) >= count) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(
        new Error(
          `The broker holds ${
            brokerCount(broker, topic)
          } records of ${topic} after ${timeoutMs} ms, not ${count}`,
        ),
      );
    }, timeoutMs);
    const off = broker.log.onAppend(() => {
      if (brokerCount(broker, topic) < count) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** The JSON values of records, decoded. */
export function values(records: readonly LogRecord[]): unknown[] {
  const decoder = new TextDecoder();
  return records.map((r) =>
    r.value === null ? null : JSON.parse(decoder.decode(r.value))
  );
}

/** Opens the demo in `page` and waits until its log is open. */
export async function openDemo(
  page: Page,
  url: string,
): Promise<void> {
  page.on("pageerror", (error) => console.error(`[page] ${error.message}`));
  await page.goto(url);
  await page.waitForFunction(() => "edgelogDemo" in globalThis);
}

/**
 * Opens the demo in `page` and waits until its service worker controls the
 * page (so it can serve the shell offline) and its sync reaches the broker.
 */
export async function openDemoOnline(page: Page, url: string): Promise<void> {
  await openDemo(page, url);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await waitForRoundOnline(page);
}

/** Waits until a sync round of the demo's log reached the broker. */
export async function waitForRoundOnline(page: Page): Promise<void> {
  await page.waitForFunction(async () => {
    // deno-lint-ignore no-explicit-any
    const status = await (globalThis as any).edgelogDemo.log.sync.status();
    return status.online && status.onlineSource === "round";
  });
}

/** The demo page's sync status. */
export function demoStatus(page: Page): Promise<{
  localRecords: number;
  syncedRecords: number;
  lagRecords: number;
  online: boolean;
  leader: boolean;
}> {
  return page.evaluate(() =>
    // deno-lint-ignore no-explicit-any
    (globalThis as any).edgelogDemo.log.sync.status()
  );
}

/** Whether `bytes` start with the PNG signature and hold more than it. */
export function isPng(bytes: Uint8Array): boolean {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  return bytes.length > 100 && signature.every((b, i) => bytes[i] === b);
}
