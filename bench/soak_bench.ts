/**
 * Soak: the broker under a long mixed load, its memory sampled from outside.
 * One broker process (as `deno task serve` runs it) gets, at once: JSON
 * produce (~300 records/s), binary bursts (five 1 MB requests every 5 s),
 * 20 long-poll readers that go back to the start every two minutes, two
 * consumer groups whose members come and go every 20–40 s, 10 SSE readers,
 * a gateway process syncing into it, and a topic deleted and created every
 * minute; it is restarted (SIGTERM, same directory and port) a quarter of
 * the way in, so the second half measures a process that has warmed up.
 * RSS is read from /proc every 10 s; the result is the peak and the
 * least-squares slope over the last half of the run.
 *
 * Run: `deno task bench --only soak [--minutes N]` (default 60), or
 * `deno run -A bench/soak_bench.ts --minutes N [--glibc-tunables VALUE]`;
 * the flag runs the broker with other allocator tunables than the serve
 * task's (`""`: glibc's defaults), as a baseline. Linux only (RSS from
 * /proc).
 *
 * @module
 */

import { EdgelogClient } from "../runtime/client/mod.ts";
import {
  type BrokerProcess,
  readRssBytes,
  SERVE_ENV,
  startBroker,
} from "../test/broker_process.ts";
import {
  count,
  describeMachine,
  fixed,
  flagValue,
  type Machine,
  machine,
  machineAfter,
  mark,
  writeResults,
} from "./_common.ts";
import { buildBatch, recordValue } from "./batches.ts";

const SAMPLE_MS = 10_000;
const JSON_TOPIC = "soak-json";
const BINARY_TOPIC = "soak-binary";
const SYNCED_TOPIC = "soak-synced";
const CHURN_TOPIC = "soak-churn";
const GROUPS = ["soak-group-a", "soak-group-b"];
const MEMBERS_PER_GROUP = 3;
const LONG_POLLERS = 20;
const SSE_READERS = 10;
const REWIND_MS = 120_000;
/** A restart on a loaded machine has taken more than the usual 15 s. */
const READY_TIMEOUT_MS = 120_000;
/** The targets of issue 16: flat memory and a bounded peak. */
const PEAK_TARGET_MB = 250;
/** Growth below this counts as flat. */
const SLOPE_TARGET_MB_PER_MIN = 0.5;

/** One RSS reading. */
export interface RssSample {
  /** Seconds since the load started. */
  atS: number;
  rssMb: number;
}

/** What a soak run measured. */
export interface SoakResult {
  machine: Machine;
  date: string;
  minutes: number;
  /** The broker's GLIBC_TUNABLES ("" for glibc's defaults). */
  glibcTunables: string;
  restartAtS: number;
  samples: RssSample[];
  peakMb: number;
  /** Least-squares slope of RSS over the last half of the run. */
  slopeMbPerMin: number;
  /** Records the load moved, and requests that failed (around the restart). */
  produced: number;
  consumed: number;
  sseBytes: number;
  errors: number;
}

/** Least-squares slope of `samples`, in MB per minute. */
export function slopeMbPerMin(samples: readonly RssSample[]): number {
  const n = samples.length;
  if (n < 2) return NaN;
  const meanX = samples.reduce((s, p) => s + p.atS, 0) / n;
  const meanY = samples.reduce((s, p) => s + p.rssMb, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of samples) {
    num += (p.atS - meanX) * (p.rssMb - meanY);
    den += (p.atS - meanX) ** 2;
  }
  return den === 0 ? NaN : (num / den) * 60;
}

/** Mutable counters shared by the load's loops. */
interface Load {
  stop: AbortSignal;
  client: () => EdgelogClient;
  produced: number;
  consumed: number;
  sseBytes: number;
  errors: number;
}

const encoder = new TextEncoder();

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Runs `step` until the load stops; a failure counts and waits a second. */
async function loop(load: Load, step: () => Promise<void>): Promise<void> {
  while (!load.stop.aborted) {
    try {
      await step();
    } catch {
      if (load.stop.aborted) return;
      load.errors++;
      await sleep(1000, load.stop);
    }
  }
}

function jsonProducer(load: Load): Promise<void> {
  let seq = 0;
  return loop(load, async () => {
    const records = Array.from({ length: 30 }, () => ({
      key: `dev-${seq % 97}`,
      value: { seq: seq++, t: 20 + (seq % 10) / 10, unit: "C" },
    }));
    await load.client().produce(JSON_TOPIC, records);
    load.produced += records.length;
    await sleep(100, load.stop);
  });
}

function binaryBursts(load: Load): Promise<void> {
  let seq = 0;
  return loop(load, async () => {
    for (let i = 0; i < 5; i++) {
      const batch = await buildBatch(1000, {
        firstSeq: seq,
        valueBytes: 1000,
        now: Date.now(),
      });
      seq += 1000;
      await load.client().produceBatches(BINARY_TOPIC, i % 2, batch);
      load.produced += 1000;
    }
    await sleep(5000, load.stop);
  });
}

/**
 * A reader that long-polls at the end of a partition and, every two
 * minutes, goes back to its start and catches up again: reads of old
 * segments in 1 MiB pages, as a consumer that was away does.
 */
function longPoller(load: Load, topic: string, partition: number) {
  let offset: number | "earliest" | "latest" = "latest";
  let rewindAt = performance.now() + REWIND_MS;
  return loop(load, async () => {
    if (performance.now() >= rewindAt) {
      rewindAt += REWIND_MS;
      offset = "earliest";
    }
    try {
      const page = await load.client().fetch(topic, partition, {
        offset,
        maxWaitMs: 2000,
        maxBytes: 1 << 20,
        maxRecords: 10_000,
        signal: load.stop,
      });
      load.consumed += page.records.length;
      offset = page.nextOffset;
    } catch (error) {
      offset = "latest";
      throw error;
    }
  });
}

function sseReader(load: Load): Promise<void> {
  return loop(load, async () => {
    const url = new URL(
      `v1/topics/${JSON_TOPIC}/stream?from=latest`,
      load.client().baseUrl,
    );
    const response = await fetch(url, { signal: load.stop });
    if (!response.ok || response.body === null) {
      await response.body?.cancel();
      throw new Error(`SSE answered ${response.status}`);
    }
    // Aborting the request does not end a body being read: cancel it.
    const reader = response.body.getReader();
    const cancel = () => reader.cancel().catch(() => {});
    load.stop.addEventListener("abort", cancel, { once: true });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        load.sseBytes += value.length;
      }
    } finally {
      load.stop.removeEventListener("abort", cancel);
    }
  });
}

/** One member slot of a group: a member lives 20–40 s, leaves, another joins. */
function groupMember(load: Load, group: string): Promise<void> {
  return loop(load, async () => {
    const consumer = load.client().consumer({
      group,
      topics: [JSON_TOPIC],
      sessionTimeoutMs: 30_000,
      maxWaitMs: 1000,
    });
    // close() commits, which fails while the broker restarts: that member
    // simply goes, as one would.
    const leave = () =>
      consumer.close().catch(() => {
        load.errors++;
      });
    const lifetime = sleep(20_000 + Math.random() * 20_000, load.stop).then(
      leave,
    );
    try {
      await consumer.run(() => {
        load.consumed++;
      });
    } finally {
      await leave();
      await lifetime;
    }
  });
}

function topicChurn(load: Load): Promise<void> {
  return loop(load, async () => {
    await sleep(60_000, load.stop);
    if (load.stop.aborted) return;
    const client = load.client();
    await client.deleteTopic(CHURN_TOPIC).catch(() => {});
    await client.createTopic(CHURN_TOPIC, { partitions: 2 });
    await client.produce(
      CHURN_TOPIC,
      Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: { i } })),
    );
  });
}

function gatewayProducer(load: Load, gateway: EdgelogClient): Promise<void> {
  let seq = 0;
  return loop(load, async () => {
    const records = Array.from({ length: 10 }, () => ({
      key: null,
      value: encoder.encode(recordValue(seq++, 200)),
    }));
    await gateway.produce(SYNCED_TOPIC, records);
    load.produced += records.length;
    await sleep(200, load.stop);
  });
}

async function startGateway(upstream: string): Promise<BrokerProcess> {
  return await startBroker({
    entry: new URL("../edge/gateway.ts", import.meta.url).pathname,
    args: ["--upstream", upstream, "--topics", SYNCED_TOPIC],
  });
}

/**
 * `--glibc-tunables VALUE` runs the broker with these allocator tunables
 * instead of the serve task's ("" for glibc's defaults), for a baseline.
 */
const TUNABLES = flagValue("--glibc-tunables");
const BROKER_ENV: Record<string, string> = TUNABLES === undefined
  ? {}
  : { GLIBC_TUNABLES: TUNABLES };

async function createTopics(client: EdgelogClient): Promise<void> {
  await client.createTopic(JSON_TOPIC, { partitions: 4, retentionMs: 600_000 });
  await client.createTopic(BINARY_TOPIC, {
    partitions: 2,
    retentionMs: 600_000,
  });
  await client.createTopic(CHURN_TOPIC, { partitions: 2 });
}

async function soak(minutes: number): Promise<SoakResult> {
  const before = await machine();
  const dataDir = await Deno.makeTempDir({ prefix: "edgelog-soak-" });
  let broker = await startBroker({
    dataDir,
    env: BROKER_ENV,
    readyTimeoutMs: READY_TIMEOUT_MS,
  });
  const port = new URL(broker.url).port;
  const stopper = new AbortController();
  const load: Load = {
    stop: stopper.signal,
    client: () => new EdgelogClient(broker.url),
    produced: 0,
    consumed: 0,
    sseBytes: 0,
    errors: 0,
  };
  await createTopics(load.client());
  const gateway = await startGateway(broker.url);
  const gatewayClient = new EdgelogClient(gateway.url);
  await gatewayClient.createTopic(SYNCED_TOPIC);

  const durationMs = minutes * 60_000;
  const restartAtMs = durationMs / 4;
  const started = performance.now();
  const loops = [
    jsonProducer(load),
    binaryBursts(load),
    gatewayProducer(load, gatewayClient),
    topicChurn(load),
    ...Array.from(
      { length: LONG_POLLERS },
      (_, i) =>
        i % 2 === 0
          ? longPoller(load, JSON_TOPIC, (i / 2) % 4)
          : longPoller(load, BINARY_TOPIC, i % 2),
    ),
    ...Array.from({ length: SSE_READERS }, () => sseReader(load)),
    ...GROUPS.flatMap((group) =>
      Array.from({ length: MEMBERS_PER_GROUP }, () => groupMember(load, group))
    ),
  ];

  const samples: RssSample[] = [];
  let restarted = false;
  while (performance.now() - started < durationMs) {
    await sleep(SAMPLE_MS, new AbortController().signal);
    const atMs = performance.now() - started;
    if (!restarted && atMs >= restartAtMs) {
      restarted = true;
      console.error(`soak: restarting the broker at ${fixed(atMs / 1000)} s`);
      await broker.stop();
      broker = await startBroker({
        dataDir,
        env: BROKER_ENV,
        readyTimeoutMs: READY_TIMEOUT_MS,
        args: ["--port", port],
      });
      continue;
    }
    const rss = await readRssBytes(broker.pid);
    if (rss === undefined) continue;
    samples.push({ atS: atMs / 1000, rssMb: rss / 2 ** 20 });
    console.error(
      `soak: ${fixed(atMs / 60_000)} min, RSS ${
        fixed(rss / 2 ** 20)
      } MB, produced ${count(load.produced)}, consumed ${
        count(load.consumed)
      }, errors ${load.errors}`,
    );
  }
  stopper.abort();
  await Promise.all(loops);
  await gateway.stop();
  await broker.stop();
  await Deno.remove(dataDir, { recursive: true });

  const halfS = durationMs / 2000;
  return {
    machine: await machineAfter(before),
    date: new Date().toISOString(),
    minutes,
    glibcTunables: BROKER_ENV.GLIBC_TUNABLES ?? SERVE_ENV.GLIBC_TUNABLES ?? "",
    restartAtS: restartAtMs / 1000,
    samples,
    peakMb: Math.max(...samples.map((s) => s.rssMb)),
    slopeMbPerMin: slopeMbPerMin(samples.filter((s) => s.atS >= halfS)),
    produced: load.produced,
    consumed: load.consumed,
    sseBytes: load.sseBytes,
    errors: load.errors,
  };
}

function table(r: SoakResult): string {
  return [
    `Soak, ${r.minutes} min, GLIBC_TUNABLES="${r.glibcTunables}", ${
      describeMachine(r.machine)
    }, ${r.date}`,
    "",
    "| measure | value | target met |",
    "| --- | ---: | --- |",
    `| peak RSS | ${fixed(r.peakMb)} MB | ${mark(r.peakMb < PEAK_TARGET_MB)} |`,
    `| RSS slope, last half | ${fixed(r.slopeMbPerMin, 2)} MB/min | ${
      mark(r.slopeMbPerMin < SLOPE_TARGET_MB_PER_MIN)
    } |`,
    `| RSS at the end | ${fixed(r.samples.at(-1)?.rssMb ?? NaN)} MB | |`,
    `| records produced / consumed | ${count(r.produced)} / ${
      count(r.consumed)
    } | |`,
    `| failed requests (restart) | ${r.errors} | |`,
  ].join("\n");
}

if (import.meta.main) {
  const minutes = Number(flagValue("--minutes") ?? "60");
  if (!(minutes > 0)) {
    console.error("soak: --minutes must be a positive number");
    Deno.exit(2);
  }
  const result = await soak(minutes);
  await writeResults(TUNABLES === undefined ? "soak" : "soak_tunables", result);
  console.log(table(result));
}
