/**
 * Browser → broker sync throughput: the demo page (headless Chromium)
 * buffers 100 000 records offline in IndexedDB, the network returns, and
 * the clock runs until the broker holds them all. In the same run, Deno
 * pushes the very same batches (read back from the broker, producer fields
 * cleared) with binary produce, in requests of the same size and
 * pipelining, for the ratio.
 *
 * Run: `deno run --allow-all bench/browser_sync_bench.ts [records] [--profile]`;
 * `--profile` prints the page's CPU self time by function during the sync
 * (CDP's Profiler domain, sampled every millisecond).
 * Both sides use one in-process broker (fsync "never", temp directory), so
 * the numbers compare the two clients, not the disk. Playwright records the
 * page's network traffic through DevTools, which is why the SDK sends its
 * pushes as Blobs (see `createSyncer` in browser/sdk.ts): BufferSource
 * bodies are copied into the inspector and made this bench 2.5-5x slower.
 * The clock starts at `setOffline(false)`; the page's `online` event
 * arrives some 10-150 ms later and kicks the syncer at once.
 *
 * @module
 */

import { EdgelogClient } from "../runtime/client/client.ts";
import {
  lastOffset,
  readBatchHeader,
  setProducer,
} from "../runtime/format/batch_header.ts";
import {
  CHROMIUM_MISSING,
  chromiumAvailable,
  launchChromium,
} from "../test/browser/chromium.ts";
import {
  brokerCount,
  openDemo,
  startDemoBroker,
  waitForBrokerCount,
  waitForRoundOnline,
} from "../test/browser/demo_broker.ts";
import { concatBytes } from "../runtime/format/bytes.ts";

const RECORDS = Number(Deno.args.find((a) => !a.startsWith("--")) ?? 100_000);
/** `--profile`: a CPU profile of the page during the sync, summarized. */
const PROFILE = Deno.args.includes("--profile");
const PER_PRODUCE = 1000;
/** The replicator's defaults: 1 MiB per request, 3 in flight. */
const REQUEST_BYTES = 1 << 20;
const IN_FLIGHT = 3;

async function browserSync(
  url: string,
  broker: Awaited<ReturnType<typeof startDemoBroker>>,
): Promise<number> {
  const browser = await launchChromium();
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(300_000);
    await openDemo(page, `${url}/demo/?name=bench&budgetMiB=0`);
    await waitForRoundOnline(page);
    await context.setOffline(true);
    await page.evaluate(async ({ total, per }) => {
      // deno-lint-ignore no-explicit-any
      const { log } = (globalThis as any).edgelogDemo;
      const pad = "r".repeat(64);
      for (let at = 0; at < total; at += per) {
        const records = Array.from(
          { length: Math.min(per, total - at) },
          (_, i) => ({ key: "bench", value: { seq: at + i, pad } }),
        );
        await log.produce("readings", records);
      }
    }, { total: RECORDS, per: PER_PRODUCE });
    const cdp = PROFILE ? await context.newCDPSession(page) : undefined;
    if (cdp) {
      await cdp.send("Profiler.enable");
      await cdp.send("Profiler.setSamplingInterval", { interval: 1000 });
      await cdp.send("Profiler.start");
    }
    const started = performance.now();
    await context.setOffline(false);
    await waitForBrokerCount(broker, "readings", RECORDS, 300_000);
    const elapsed = performance.now() - started;
    if (cdp) printProfile((await cdp.send("Profiler.stop")).profile);
    return elapsed;
  } finally {
    await browser.close();
  }
}

/** The part of a CDP `Profiler.Profile` the summary reads. */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  samples?: number[];
  timeDeltas?: number[];
}

/** Prints the page's self time by function, the heaviest first. */
function printProfile(profile: CpuProfile): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const self = new Map<string, number>();
  let total = 0;
  (profile.samples ?? []).forEach((id, i) => {
    const frame = byId.get(id)!;
    const file = frame.url.slice(frame.url.lastIndexOf("/") + 1);
    const name = `${frame.functionName || "(anonymous)"} ${file}:${
      frame.lineNumber + 1
    }`;
    const ms = (profile.timeDeltas?.[i] ?? 0) / 1000;
    self.set(name, (self.get(name) ?? 0) + ms);
    total += ms;
  });
  console.log(`page CPU profile: ${total.toFixed(0)} ms sampled, self time:`);
  for (const [name, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    console.log(`  ${ms.toFixed(1).padStart(7)} ms  ${name}`);
  }
}

/** Pushes the broker's own batches of `readings` into `copy` by binary produce. */
async function denoPush(
  url: string,
  broker: Awaited<ReturnType<typeof startDemoBroker>>,
): Promise<number> {
  const requests: Uint8Array[] = [];
  const partition = broker.log.partition("readings", 0);
  let offset = partition.logStartOffset;
  let parts: Uint8Array[] = [];
  let size = 0;
  const flush = () => {
    if (parts.length === 0) return;
    requests.push(concatBytes(parts));
    parts = [];
    size = 0;
  };
  while (offset < partition.highWatermark) {
    for (const batch of await partition.readBatches(offset, REQUEST_BYTES)) {
      if (size + batch.length > REQUEST_BYTES) flush();
      const copy = batch.slice();
      setProducer(copy, -1, -1, -1);
      parts.push(copy);
      size += batch.length;
      offset = lastOffset(readBatchHeader(batch)) + 1;
    }
  }
  flush();
  await broker.log.createTopic("copy");
  const client = new EdgelogClient(url, { retry: { attempts: 1 } });
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < requests.length) {
        await client.produceBatches("copy", 0, requests[next++]!);
      }
    }),
  );
  const elapsed = performance.now() - started;
  if (brokerCount(broker, "copy") !== RECORDS) {
    throw new Error(`Deno pushed ${brokerCount(broker, "copy")} records`);
  }
  return elapsed;
}

if (import.meta.main) {
  if (!chromiumAvailable()) {
    console.error(CHROMIUM_MISSING);
    Deno.exit(0);
  }
  const broker = await startDemoBroker();
  try {
    const browserMs = await browserSync(broker.url, broker);
    const denoMs = await denoPush(broker.url, broker);
    const rate = (ms: number) => Math.round(RECORDS / (ms / 1000));
    console.log(
      `| client | records | seconds | records/s |\n| --- | ---: | ---: | ---: |`,
    );
    console.log(
      `| Chromium SDK sync (IndexedDB → broker) | ${RECORDS} | ${
        (browserMs / 1000).toFixed(2)
      } | ${rate(browserMs)} |`,
    );
    console.log(
      `| Deno binary produce (same batches) | ${RECORDS} | ${
        (denoMs / 1000).toFixed(2)
      } | ${rate(denoMs)} |`,
    );
    console.log(
      `browser/Deno throughput ratio: ${(denoMs / browserMs).toFixed(2)}`,
    );
  } finally {
    await broker.close();
  }
}
