/**
 * The web console at fleet scale: its bundle size, the payloads of its
 * largest answers, and the time from navigation to the first rendered rows
 * of the overview, topics and devices pages, for a broker with 100 topics
 * and 10 000 device streams against the same broker nearly empty (1 topic,
 * 1 stream) in the same run.
 *
 * Run: `deno task bench --only console` (or `deno run -A bench/console_bench.ts`).
 *
 * @module
 */

import { CONSOLE_ENTRY } from "../browser/console/entry.ts";
import { bundle } from "../browser/build.ts";
import { startBroker } from "../edge/broker.ts";
import { EdgelogClient } from "../runtime/client/mod.ts";
import { launchChromium } from "../test/browser/chromium.ts";
import { machine, machineAfter, median, writeResults } from "./_common.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const RUNS = 5;

async function gzipBytes(data: Uint8Array<ArrayBuffer>): Promise<number> {
  let size = 0;
  const stream = new Blob([data]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  for await (const chunk of stream) size += chunk.length;
  return size;
}

async function bundleSize(): Promise<{ bytes: number; gzip: number }> {
  const dir = await Deno.makeTempDir({ prefix: "edgelog-console-bench-" });
  try {
    await bundle([CONSOLE_ENTRY], { outdir: dir, root: ROOT });
    const js = await Deno.readFile(`${dir}/${CONSOLE_ENTRY.out}.js`);
    return { bytes: js.length, gzip: await gzipBytes(js) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs `fn` over `items` with at most `width` at a time. */
async function pool<T>(
  items: readonly T[],
  width: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

interface Scale {
  topics: number;
  streams: number;
}

async function payload(url: string): Promise<{ bytes: number; gzip: number }> {
  const body = new Uint8Array(await (await fetch(url)).arrayBuffer());
  return { bytes: body.length, gzip: await gzipBytes(body) };
}

async function measure(scale: Scale) {
  const dataDir = await Deno.makeTempDir({ prefix: "edgelog-console-bench-" });
  const broker = await startBroker({ dataDir, port: 0, fsync: "never" });
  try {
    const client = new EdgelogClient(broker.url);
    const names = Array.from(
      { length: scale.topics },
      (_, i) => `topic-${String(i).padStart(3, "0")}`,
    );
    await pool(names, 8, (name) => client.createTopic(name, { partitions: 4 }));
    const streams = Array.from({ length: scale.streams }, (_, i) => i);
    const seeding = performance.now();
    await pool(
      streams,
      16,
      (i) =>
        client.registerStream(
          `device-${String(i).padStart(5, "0")}`,
          names[i % names.length]!,
          0,
        ),
    );
    const seedSeconds = (performance.now() - seeding) / 1000;
    const views = [
      ["overview", "#/overview", ".stats .stat-value"],
      ["topics", "#/topics", "table.rows tbody tr"],
      ["devices", "#/devices", "table.rows tbody tr"],
    ] as const;
    const browser = await launchChromium();
    const firstRender: Record<string, number> = {};
    try {
      for (const [name, hash, selector] of views) {
        const samples: number[] = [];
        for (let run = 0; run < RUNS; run++) {
          const page = await browser.newPage();
          const started = performance.now();
          await page.goto(`${broker.url}/${hash}`);
          await page.locator(selector).first().waitFor({ timeout: 60_000 });
          samples.push(performance.now() - started);
          await page.close();
        }
        firstRender[name] = median(samples);
      }
    } finally {
      await browser.close();
    }
    return {
      scale,
      seedSeconds,
      firstRenderMs: firstRender,
      payloads: {
        streams: await payload(`${broker.url}/v1/sync/streams`),
        topics: await payload(`${broker.url}/v1/broker/topics`),
      },
    };
  } finally {
    await broker.close();
    await Deno.remove(dataDir, { recursive: true });
  }
}

const before = await machine();
const size = await bundleSize();
const small = await measure({ topics: 1, streams: 1 });
const fleet = await measure({ topics: 100, streams: 10_000 });
const after = await machineAfter(before);
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
console.log(
  `Bundle ${CONSOLE_ENTRY.out}.js: ${kib(size.bytes)} minified, ${
    kib(size.gzip)
  } gzip.\n`,
);
console.log(
  "| first rows rendered (median of 5) | 1 topic, 1 stream | 100 topics, 10 000 streams | ratio |",
);
console.log("| --- | ---: | ---: | ---: |");
for (const view of ["overview", "topics", "devices"]) {
  const a = small.firstRenderMs[view]!;
  const b = fleet.firstRenderMs[view]!;
  console.log(
    `| ${view} | ${a.toFixed(0)} ms | ${b.toFixed(0)} ms | ${
      (b / a).toFixed(2)
    }× |`,
  );
}
console.log("\n| payload | 1 topic, 1 stream | 100 topics, 10 000 streams |");
console.log("| --- | ---: | ---: |");
for (
  const [name, path] of [["streams", "GET /v1/sync/streams"], [
    "topics",
    "GET /v1/broker/topics",
  ]] as const
) {
  const a = small.payloads[name];
  const b = fleet.payloads[name];
  console.log(
    `| ${path} | ${kib(a.bytes)} (${kib(a.gzip)} gzip) | ${kib(b.bytes)} (${
      kib(b.gzip)
    } gzip) |`,
  );
}
console.log(
  `\nSeeding 10 000 streams took ${fleet.seedSeconds.toFixed(1)} s.`,
);
await writeResults("console", {
  machine: after,
  bundle: size,
  small,
  fleet,
});
