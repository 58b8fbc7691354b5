/**
 * IndexedDB adapter benchmark, in headless Chromium: IdbStorage append and
 * read throughput for 100-byte values in batches of 1, 100 and 1000
 * records, next to plain IndexedDB writes of the same data, (a) one object
 * per batch and (b) one object per record, one transaction per append call
 * in both. The ways write in step, batch by batch, in a new order at every
 * batch; each keeps its best of three rounds. Prints markdown tables.
 *
 * Run: `deno run --allow-all bench/idb_bench.ts [--relaxed]`
 *
 * @module
 */

import {
  CHROMIUM_MISSING,
  chromiumAvailable,
  launchChromium,
} from "../test/browser/chromium.ts";
import { servePage } from "../test/browser/harness.ts";
import type { BenchCase, BenchResult } from "./idb_bench_page.ts";

const durability: IDBTransactionDurability = Deno.args.includes("--relaxed")
  ? "relaxed"
  : "strict";

/** Record counts sized so that each case takes seconds, not minutes. */
const CASES: BenchCase[] = [
  { batchSize: 1, records: 600, valueBytes: 100, durability },
  { batchSize: 100, records: 30_000, valueBytes: 100, durability },
  { batchSize: 1000, records: 100_000, valueBytes: 100, durability },
];

function perSecond(count: number, ms: number): string {
  return Math.round(count / (ms / 1000)).toLocaleString("en-US");
}

function mbPerSecond(bytes: number, ms: number): string {
  return (bytes / 1e6 / (ms / 1000)).toFixed(1);
}

function ratio(ms: number, baselineMs: number): string {
  return (baselineMs / ms).toFixed(2);
}

if (!chromiumAvailable()) {
  console.error(CHROMIUM_MISSING);
  Deno.exit(1);
}

const server = await servePage("bench/idb_bench_page.ts");
const browser = await launchChromium();
const results: BenchResult[] = [];
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(300_000);
  await page.goto(server.url);
  await page.waitForFunction(() => globalThis.edgelogBench !== undefined);
  for (const c of CASES) {
    results.push(await page.evaluate((c) => globalThis.edgelogBench!(c), c));
  }
} finally {
  await browser.close();
  await server.close();
}

console.log(
  `IndexedDB in headless Chromium (${browser.version()}), durability "${durability}", 100-byte values, one append call = one batch = one transaction.\n`,
);
console.log(
  "| records/batch | records | IdbStorage append rec/s (MB/s) | raw put per batch rec/s | raw put per record rec/s | vs per batch | vs per record |",
);
console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of results) {
  console.log(
    `| ${r.batchSize} | ${r.records} | ${perSecond(r.records, r.appendMs)} (${
      mbPerSecond(r.bytes, r.appendMs)
    }) | ${perSecond(r.records, r.rawBatchMs)} | ${
      perSecond(r.records, r.rawRecordMs)
    } | ${ratio(r.appendMs, r.rawBatchMs)} | ${
      ratio(r.appendMs, r.rawRecordMs)
    } |`,
  );
}
console.log(
  "\n| records/batch | IdbStorage read rec/s (MB/s) | raw cursor per batch rec/s | raw cursor per record rec/s | vs per batch | vs per record |",
);
console.log("| ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of results) {
  console.log(
    `| ${r.batchSize} | ${perSecond(r.records, r.readMs)} (${
      mbPerSecond(r.bytes, r.readMs)
    }) | ${perSecond(r.records, r.rawBatchReadMs)} | ${
      perSecond(r.records, r.rawRecordReadMs)
    } | ${ratio(r.readMs, r.rawBatchReadMs)} | ${
      ratio(r.readMs, r.rawRecordReadMs)
    } |`,
  );
}
console.log(
  "\nRatios are IdbStorage throughput / raw throughput (1.00 = as fast as the raw loop).",
);
